"""The offline field app (issue 20): a progressive web app for township staff and helpers in villages without
signal. It builds on every app (households ← inspections ← rectification ← fieldwork) and owns no tables: the
package it hands out is read through the apps' selectors, and what the phone sends back goes through the API's
writes (housing_safety/api, the apps' api_writes.py) under Idempotency-Key. docs/field-app.md is the contract
between the server and the app's JavaScript (static/field/)."""
