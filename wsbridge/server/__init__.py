"""The websocket server: moves bytes between clients and one adapter."""
