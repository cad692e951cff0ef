"""The SMS-gateway stand-in (`nidb sim sms`)."""
