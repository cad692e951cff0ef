"""A mail server stand-in (`nidb sim smtp`): receives real SMTP, shows the mail over HTTP."""
