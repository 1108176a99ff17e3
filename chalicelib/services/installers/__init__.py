"""Installers: self-registration and approval, installations for customers, the customer's activation."""
