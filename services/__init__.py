"""Client I/O shells around `store/`: the HTTP API client, the session on
disk, the websocket listener, the outbox sender, and `services.client.Client`
that composes them for one signed-in user."""
