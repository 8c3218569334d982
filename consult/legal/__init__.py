"""The site's legal pages: legal notice, privacy notice, accessibility statement, terms of use."""
