"""Reliability suites: each module starts the real servers it needs
(tests.support.server.ServerProcess) with the settings it needs."""
