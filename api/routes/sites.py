"""Communes, sites (with the stage, TAN test and outdoor node rules read), contacts and threshold overrides."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Response

from api.deps import CurrentToken, RegistryDep, VisibleSite, require
from api.schemas.common import ERRORS
from api.schemas.enums import Quantity
from api.schemas.sites import (
    CommuneCreate,
    CommuneOut,
    ContactCreate,
    ContactOut,
    OverrideOut,
    OverrideSet,
    SiteConditionsPatch,
    SiteCreate,
    SiteOut,
)
from registry import contacts, overrides, sites
from registry.db import now_ms
from registry.models import Site, Token

router = APIRouter(tags=["sites"], responses=ERRORS)
Admin = Annotated[Token, Depends(require("admin"))]
Staff = Annotated[Token, Depends(require("admin", "officer", "technician"))]
Tuner = Annotated[Token, Depends(require("admin", "officer"))]
# Farmers enter the stage and the TAN test of their own fields and ponds (they see the crop and run the kit);
# naming the outdoor reference node is installation work.
ConditionSetter = Annotated[Token, Depends(require("admin", "technician", "farmer"))]
FARMER_FIELDS = frozenset({"stage", "tan_mg_l", "tan_measured_ms"})


def _site_out(s: Site) -> SiteOut:
    return SiteOut(slug=s.slug, name=s.name, profile=s.profile, commune=s.commune, lat=s.lat, lon=s.lon,
                   growing_area_code=s.growing_area_code, stage=s.stage, tan_mg_l=s.tan_mg_l,
                   tan_measured_ms=s.tan_measured_ms, tan_fresh=sites.tan_is_fresh(s, now_ms()),
                   outdoor_node=s.outdoor_node)


@router.get("/communes", response_model=list[CommuneOut])
def list_communes(_: CurrentToken, conn: RegistryDep) -> list[CommuneOut]:
    return [CommuneOut(slug=c.slug, name=c.name, district=c.district, province=c.province)
            for c in sites.list_communes(conn)]


@router.post("/communes", response_model=CommuneOut, status_code=201)
def add_commune(body: CommuneCreate, _: Admin, conn: RegistryDep) -> CommuneOut:
    c = sites.add_commune(conn, body.slug, body.name, body.district, body.province)
    return CommuneOut(slug=c.slug, name=c.name, district=c.district, province=c.province)


@router.get("/sites", response_model=list[SiteOut], summary="Sites the token may see")
def list_sites(token: CurrentToken, conn: RegistryDep) -> list[SiteOut]:
    only = token.sites if token.role == "farmer" else None
    return [_site_out(s) for s in sites.list_sites(conn, only)]


@router.post("/sites", response_model=SiteOut, status_code=201)
def add_site(body: SiteCreate, _: Admin, conn: RegistryDep) -> SiteOut:
    s = sites.add_site(conn, body.slug, body.name, body.profile.value, body.commune, body.lat, body.lon,
                       body.growing_area_code)
    return _site_out(s)


@router.get("/sites/{site}", response_model=SiteOut)
def get_site(site: VisibleSite, conn: RegistryDep) -> SiteOut:
    return _site_out(sites.get_site(conn, site))


@router.patch("/sites/{site}", response_model=SiteOut,
               summary="Set or clear the stage, TAN test and outdoor reference node of a site")
def patch_site(site: VisibleSite, body: SiteConditionsPatch, token: ConditionSetter, conn: RegistryDep) -> SiteOut:
    given = body.model_fields_set
    if not given:
        raise HTTPException(422, "nothing to change: give stage, tan_mg_l, tan_measured_ms or outdoor_node")
    if token.role == "farmer" and given - FARMER_FIELDS:
        raise HTTPException(403, "a farmer token may set the stage and TAN test of its own sites only; "
                                 "a technician sets the outdoor node")
    s = sites.set_conditions(
        conn, site,
        stage=(body.stage.value if body.stage is not None else None) if "stage" in given else sites.KEEP,
        tan_mg_l=body.tan_mg_l if "tan_mg_l" in given else sites.KEEP,
        tan_measured_ms=body.tan_measured_ms,
        outdoor_node=body.outdoor_node if "outdoor_node" in given else sites.KEEP,
    )
    return _site_out(s)


@router.get("/sites/{site}/contacts", response_model=list[ContactOut])
def list_contacts(site: VisibleSite, _: Staff, conn: RegistryDep) -> list[ContactOut]:
    return [
        ContactOut(id=sc.contact.id, name=sc.contact.name, role=sc.contact.role, phone=sc.contact.phone,
                   email=sc.contact.email, zalo_id=sc.contact.zalo_id, channels=sc.contact.channels,
                   language=sc.contact.language, owner=sc.is_owner)
        for sc in contacts.site_contacts(conn, site)
    ]


@router.post("/sites/{site}/contacts", response_model=ContactOut, status_code=201)
def add_contact(site: VisibleSite, body: ContactCreate, _: Admin, conn: RegistryDep) -> ContactOut:
    c = contacts.add_contact(conn, body.name, body.role.value, body.phone, body.email, body.zalo_id,
                             [ch.value for ch in body.channels], body.language.value)
    contacts.link(conn, site, c.id, body.owner)
    return ContactOut(id=c.id, name=c.name, role=c.role, phone=c.phone, email=c.email, zalo_id=c.zalo_id,
                      channels=c.channels, language=c.language, owner=body.owner)


@router.get("/sites/{site}/overrides", response_model=list[OverrideOut], summary="Threshold overrides of a site")
def list_overrides(site: VisibleSite, conn: RegistryDep) -> list[OverrideOut]:
    return [OverrideOut(quantity=o.quantity, warn_low=o.warn_low, warn_high=o.warn_high, crit_low=o.crit_low,
                        crit_high=o.crit_high, note=o.note, updated_ms=o.updated_ms)
            for o in overrides.list_overrides(conn, site)]


@router.put("/sites/{site}/overrides/{quantity}", response_model=OverrideOut)
def set_override(
    site: VisibleSite, quantity: Annotated[Quantity, Path()], body: OverrideSet, _: Tuner, conn: RegistryDep
) -> OverrideOut:
    if not any(v is not None for v in (body.warn_low, body.warn_high, body.crit_low, body.crit_high)):
        raise HTTPException(422, "give at least one threshold (or DELETE the override)")
    o = overrides.set_override(conn, site, quantity.value, body.warn_low, body.warn_high, body.crit_low,
                               body.crit_high, body.note)
    return OverrideOut(quantity=o.quantity, warn_low=o.warn_low, warn_high=o.warn_high, crit_low=o.crit_low,
                       crit_high=o.crit_high, note=o.note, updated_ms=o.updated_ms)


@router.delete("/sites/{site}/overrides/{quantity}", status_code=204, response_class=Response)
def delete_override(site: VisibleSite, quantity: Annotated[Quantity, Path()], _: Tuner, conn: RegistryDep) -> Response:
    overrides.delete_override(conn, site, quantity.value)
    return Response(status_code=204)
