"""Custom Rasa actions: the business work behind the bot's answers, reading and writing the CRM."""
