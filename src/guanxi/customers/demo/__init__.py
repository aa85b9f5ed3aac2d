"""Realistic demo data (fuel stations, building materials, car dealers) and the first-start demo set-up."""

from guanxi.customers.demo.loader import (
    VERTICALS,
    DemoLogin,
    DemoStats,
    demo_load,
    demo_login,
    demo_setup,
)

__all__ = ["VERTICALS", "DemoLogin", "DemoStats", "demo_load", "demo_login", "demo_setup"]
