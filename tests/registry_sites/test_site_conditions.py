"""registry.sites.set_conditions on a real SQLite file: the schema upgrade, which stages a profile knows, what
KEEP and None do, and the checks the database makes by itself."""

from __future__ import annotations

from pathlib import Path

import pytest

import registry.db
from registry import credentials, nodes, sites, validate
from registry.db import Conflict, Connection, RegistryError, migrate, open_registry


@pytest.fixture
def conn(tmp_path: Path) -> Connection:
    c = open_registry(f"sqlite:///{tmp_path / 'r.db'}")
    sites.add_site(c, "ruong-ba", "Ruộng ông Ba", "rice_paddy")
    sites.add_site(c, "ao-tu", "Ao bà Tư", "fish_pond")
    nodes.add_node(c, "ruong-ba", "n1", credentials.hash_password("unused"))
    return c


def test_a_schema_1_registry_upgrades_with_its_sites_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    every = registry.db._migrations()
    monkeypatch.setattr(registry.db, "_migrations", lambda: every[:1])
    url = f"sqlite:///{tmp_path / 'old.db'}"
    c = open_registry(url)
    c.execute("INSERT INTO sites (slug, name, profile, created_ms) VALUES ('old-1', 'Ruộng cũ', 'rice_paddy', 1)")
    c.close()
    monkeypatch.undo()

    c = open_registry(url)
    assert migrate(c) == every[-1][0]
    old = sites.get_site(c, "old-1")
    assert (old.name, old.stage, old.tan_mg_l, old.tan_measured_ms, old.outdoor_node) == ("Ruộng cũ", None, None,
                                                                                          None, None)


def test_the_stages_of_a_profile_are_its_listed_stages_then_those_its_rules_test() -> None:
    assert validate.profile_stages("rice_paddy") == ("seedbed", "establishment", "tillering", "panicle_init",
                                                     "booting", "flowering", "grain_fill", "pre_harvest")
    assert validate.profile_stages("net_house") == ("fruiting",)
    assert validate.profile_stages("lychee_orchard") == ("flowering",)
    assert validate.profile_stages("fish_pond") == ()
    assert [p for p in ("rice_paddy", "fish_pond", "pig_barn") if validate.profile_uses_tan(p)] == ["fish_pond"]


def test_keep_leaves_a_field_and_none_clears_it(conn: Connection) -> None:
    s = sites.set_conditions(conn, "ruong-ba", stage="tillering", outdoor_node="n1")
    assert (s.stage, s.outdoor_node) == ("tillering", "n1")
    s = sites.set_conditions(conn, "ruong-ba", stage="flowering")
    assert (s.stage, s.outdoor_node) == ("flowering", "n1")
    s = sites.set_conditions(conn, "ruong-ba", outdoor_node=None)
    assert (s.stage, s.outdoor_node) == ("flowering", None)
    tested = 1_764_460_800_000
    s = sites.set_conditions(conn, "ao-tu", tan_mg_l=0.5, tan_measured_ms=tested)
    assert (s.tan_mg_l, s.tan_measured_ms) == (0.5, tested)
    assert sites.tan_is_fresh(s, tested + sites.TAN_MAX_AGE_MS)
    assert not sites.tan_is_fresh(s, tested + sites.TAN_MAX_AGE_MS + 1)
    s = sites.set_conditions(conn, "ao-tu", tan_mg_l=None)
    assert (s.tan_mg_l, s.tan_measured_ms) == (None, None)


def test_a_refused_change_changes_nothing(conn: Connection) -> None:
    sites.set_conditions(conn, "ruong-ba", stage="tillering")
    with pytest.raises(RegistryError, match="has no node 'n9'"):
        sites.set_conditions(conn, "ruong-ba", stage="flowering", outdoor_node="n9")
    assert sites.get_site(conn, "ruong-ba").stage == "tillering"


def test_the_database_refuses_a_negative_tan_by_itself(conn: Connection) -> None:
    with pytest.raises(Conflict, match="CHECK"), registry.db.transaction(conn):
        conn.execute("UPDATE sites SET tan_mg_l = -1 WHERE slug = 'ao-tu'")
