"""Drivers: thin loops that move bytes between the engine and the outside world."""
