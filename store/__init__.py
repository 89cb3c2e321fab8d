"""Client state, no network: the TinyDB cache of confirmed records, the
durable outbox, the optimistic view (confirmed + pending replayed through
`domain.apply`) and subscriptions for targeted refresh.

`store.Store` composes them; `services/` drives it from the network."""
