"""Reliability suites: each module starts the real servers it needs
(testkit.server.ServerProcess) with the settings it needs."""
