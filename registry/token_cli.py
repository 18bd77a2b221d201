"""`ruongso token`: API tokens (the secret is printed once; the registry keeps its hash)."""

from __future__ import annotations

import typer

from registry.cli_common import REGISTRY_OPTION, opened

app = typer.Typer(no_args_is_help=True, help="Create, list and revoke API tokens.")


@app.command("create")
def create(
    role: str = typer.Option(..., "--role", help="admin, officer, technician or farmer"),
    name: str = typer.Option(None, "--name", help="Who holds it (shown in logs and acks)."),
    site: list[str] = typer.Option([], "--site", help="A farmer token's site (repeat for several)."),
    contact: int = typer.Option(None, "--contact", help="A farmer token may take its sites from a contact."),
    registry: str = REGISTRY_OPTION,
) -> None:
    """Create a token and print its secret, once."""
    from registry.tokens import create_token

    with opened(registry_url=registry) as (_, conn):
        token, secret = create_token(conn, name or role, role, site, contact)
    typer.echo(f"token {token.id} ({token.role}) created; keep this secret, it is not shown again:", err=True)
    typer.echo(secret)


@app.command("list")
def list_(registry: str = REGISTRY_OPTION) -> None:
    """Tokens (never their secrets)."""
    from registry.tokens import list_tokens

    with opened(registry_url=registry) as (_, conn):
        for t in list_tokens(conn):
            state = "revoked" if t.revoked_ms else "live"
            typer.echo(f"{t.id}\t{t.role}\t{state}\t{t.name}\t{','.join(sorted(t.sites)) or '*'}")


@app.command("revoke")
def revoke(token_id: int = typer.Argument(...), registry: str = REGISTRY_OPTION) -> None:
    """Revoke a token by id."""
    from registry.tokens import revoke_token

    with opened(registry_url=registry) as (_, conn):
        revoke_token(conn, token_id)
    typer.echo(f"token {token_id} revoked")
