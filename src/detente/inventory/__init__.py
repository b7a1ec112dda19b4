"""Inventory: business services and the assets they run on, with exposure."""
