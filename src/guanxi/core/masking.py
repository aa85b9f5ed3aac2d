"""How personal data reads for roles that may not see it in clear."""

from __future__ import annotations


def mask_email(address: str) -> str:
    """zhang.wei@example.com → z***@example.com"""
    local, _sep, domain = address.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def mask_text(text: str, keep: int = 1) -> str:
    """微信ID wxid_abc123 → w***; 福田区深南大道1号 → 福***"""
    return f"{text[:keep]}***" if text else ""
