"""Typed application state of the console: what the factory and its resources put on the app."""

from __future__ import annotations

import aiohttp
from aiohttp import web

from bot.console.auth import PasswordPool, WsTickets
from bot.console.live import LiveFeed
from bot.console.rasa_client import RasaClient
from bot.console.throttle import LoginThrottle
from bot.crm.store import CRMStore
from bot.crm.ticket_search import TicketSearch
from bot.jobs.runner import JobLauncher
from bot.jobs.schedule import JobSchedule
from bot.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
OPENAPI = web.AppKey("openapi", dict)
STORE = web.AppKey("store", CRMStore)
TICKET_SEARCH = web.AppKey("ticket_search", TicketSearch)
HTTP = web.AppKey("http", aiohttp.ClientSession)
RASA = web.AppKey("rasa", RasaClient)
LIVE = web.AppKey("live", LiveFeed)
LOGIN_THROTTLE = web.AppKey("login_throttle", LoginThrottle)
WS_TICKETS = web.AppKey("ws_tickets", WsTickets)
PASSWORDS = web.AppKey("passwords", PasswordPool)
JOB_LAUNCHER = web.AppKey("job_launcher", JobLauncher)
JOB_SCHEDULE = web.AppKey("job_schedule", JobSchedule)
