"""Everything Rasa loads from this project: the customer channels and the CRM event broker.

Named in credentials.yml (channels) and endpoints.yml (broker); the CRM and the console
never import this package, so they stay free of Rasa and Sanic.
"""
