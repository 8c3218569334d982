"""Protection against abuse: paused logins after wrong passwords, forms sent once."""
