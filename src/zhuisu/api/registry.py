"""SKELETON router (registry); its helper replaces this file."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
