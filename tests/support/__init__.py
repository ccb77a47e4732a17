"""What tests build on, one module per thing; test modules hold only tests.

- Running the app: `running_app` (in process, through httpx's ASGI transport), `serve_processes` (real
  `keyward serve` / `keyward worker` processes), `throwaway_services` (PostgreSQL and Redis a test may
  stop), `fresh_database`, `ports` (KEYWARD_TEST_PORTS), `required_tools` (programs from outside Python).
- Talking to it: `api` (a GraphQL client and factories for accounts, tokens, projects, keys),
  `client_addresses`, `schema_calls` (a valid call for any field of the committed SDL).
- Data: `populated_workspace`, `many_tokens`, `sql_statements` (statement counting, rows in bulk).
- Time: `app_clock` (the application's clock, in process and in served processes), `attempt_clock`
  (the throttling windows' clock).
- Hostile input and races: `hostile_documents`, `hostile_load`, `races`.
- Outside services: `mail_server` (SMTP), `webhook_receiver` and `webhooks`.
"""
