"""The embedded simulated exchange (API documented once the engine lands)."""
