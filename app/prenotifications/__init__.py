"""Vaccine shipment pre-notifications: targeted routing and the server-enforced workflow."""
