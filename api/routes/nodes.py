"""Nodes: list, provision (credentials, broker files, node.yaml), rotate, revoke."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from api.deps import SLUG_PATTERN, ContextDep, RegistryDep, VisibleSite, require
from api.schemas.common import ERRORS
from api.schemas.nodes import NodeCreate, NodeOut, NodeProvisionedOut, NodeRevokedOut
from registry import node_yaml, nodes, provision
from registry.models import Node, Token

router = APIRouter(tags=["nodes"], responses={**ERRORS, 409: {"description": "The node exists already"}})
Provisioner = Annotated[Token, Depends(require("admin", "technician"))]
NodePath = Annotated[str, Path(pattern=SLUG_PATTERN, max_length=63, description="Node slug")]


def node_out(n: Node) -> NodeOut:
    return NodeOut(site=n.site, node=n.slug, sensors=n.sensors, interval_s=n.interval_s, firmware=n.firmware,
                   mqtt_username=n.mqtt_username, state=n.state, created_ms=n.created_ms, revoked_ms=n.revoked_ms)


@router.get("/sites/{site}/nodes", response_model=list[NodeOut])
def list_nodes(site: VisibleSite, conn: RegistryDep) -> list[NodeOut]:
    return [node_out(n) for n in nodes.list_nodes(conn, site)]


@router.get("/sites/{site}/nodes/{node}", response_model=NodeOut)
def get_node(site: VisibleSite, node: NodePath, conn: RegistryDep) -> NodeOut:
    return node_out(nodes.get_node(conn, site, node))


@router.post("/nodes", response_model=NodeProvisionedOut, status_code=201,
             summary="Provision a node: MQTT credentials, broker ACL, node.yaml")
def add_node(body: NodeCreate, _: Provisioner, conn: RegistryDep, ctx: ContextDep) -> NodeProvisionedOut:
    s = ctx.settings
    done = provision.add_node(
        conn, s.broker_files(), s.url_for_nodes(), body.site, body.node,
        [q.value for q in body.sensors] if body.sensors is not None else None, body.interval_s, body.firmware,
    )
    return NodeProvisionedOut(node=node_out(done.node), node_yaml=node_yaml.render(done.config), config=done.config,
                              broker_synced=done.broker_synced)


@router.post("/sites/{site}/nodes/{node}/rotate", response_model=NodeProvisionedOut,
             summary="New MQTT password for a node (returns a new node.yaml)")
def rotate(site: VisibleSite, node: NodePath, _: Provisioner, conn: RegistryDep, ctx: ContextDep) -> NodeProvisionedOut:
    s = ctx.settings
    done = provision.rotate_password(conn, s.broker_files(), s.url_for_nodes(), site, node)
    return NodeProvisionedOut(node=node_out(done.node), node_yaml=node_yaml.render(done.config), config=done.config,
                              broker_synced=done.broker_synced)


@router.post("/sites/{site}/nodes/{node}/revoke", response_model=NodeRevokedOut, summary="Lock a node out")
def revoke(site: VisibleSite, node: NodePath, _: Provisioner, conn: RegistryDep, ctx: ContextDep) -> NodeRevokedOut:
    revoked, synced = provision.revoke_node(conn, ctx.settings.broker_files(), site, node)
    return NodeRevokedOut(node=node_out(revoked), broker_synced=synced)
