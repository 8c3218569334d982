"""What the tests share: the site under test, databases copied from seeded templates, seeding
through the domain services, the arq worker's environment, a mail server and the browser."""
