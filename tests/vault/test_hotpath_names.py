"""The hand-built SQL of vault/hotpath.py takes its tables, columns and states from the models.

Renaming a table, a column or a state in models.py must carry into every statement: the
statements are rebuilt with every name of the vault's models changed, and nothing of the old
names may be left. A table name or state written into the module's source fails too.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.apps import apps

from zorgsleutel.vault import hotpath

VAULT_MODELS = list(apps.get_app_config("vault").get_models())

# Everything a statement may hold besides the models' quoted names, their state literals,
# placeholders and numbers: SQL words and the aliases of the two joins.
SQL_WORDS = {
    *("SELECT", "FROM", "JOIN", "LEFT", "ON", "WHERE", "AND", "OR", "IN", "ORDER", "BY", "DESC"),
    *("LIMIT", "FOR", "UPDATE", "OF", "SET", "INSERT", "INTO", "VALUES", "RETURNING"),
    *("CONFLICT", "DO", "NOTHING", "COALESCE", "SUM", "CASE", "WHEN", "THEN", "ELSE", "END"),
    *("c", "e"),
}
TOKEN = re.compile(r"""'(?:[^']|'')*'|"[^"]+"|%s|\d+|\w+|[(),.=<>]+|\s+""")


def _states(model) -> dict[str, str]:
    """A model's state constants (Enrolment.PENDING ...): upper-case class attributes, text."""
    return {k: v for k, v in vars(model).items() if k.isupper() and isinstance(v, str)}


def _built() -> dict[str, str]:
    for statement in hotpath.STATEMENTS:
        statement.cache_clear()
    return {statement.__name__: statement() for statement in hotpath.STATEMENTS}


def _tokens(sql: str) -> list[str]:
    tokens, end = [], 0
    for match in TOKEN.finditer(sql):
        assert match.start() == end, f"cannot read {sql[end:]!r}"
        tokens.append(match.group())
        end = match.end()
    assert end == len(sql)
    return [t for t in tokens if not t.isspace()]


def test_a_statement_reads_as_before_with_the_models_names_quoted():
    statements = _built()

    assert statements["_confirm_enrolment"] == (
        'UPDATE "vault_enrolment" SET "status" = \'confirmed\', "confirmed_at" = %s'
        ' WHERE "id" = %s AND "status" = \'pending\''
    )
    assert statements["_add_attempt"] == (
        'INSERT INTO "vault_deliveryattempt" ("send_id", "gateway", "ok", "reference", "error",'
        ' "at") VALUES (%s, %s, %s, %s, %s, %s)'
    )
    assert len(statements) == 14


def test_renamed_tables_columns_and_states_carry_into_every_statement():
    tables, columns, states = set(), set(), {"''"}  # '' is no state: SmsSend's empty gateway
    try:
        with pytest.MonkeyPatch.context() as patch:
            for model in VAULT_MODELS:
                name = model.__name__.lower()
                patch.setattr(model._meta, "db_table", f"renamed_{name}")
                tables.add(f'"renamed_{name}"')
                for field in model._meta.concrete_fields:
                    column = f"{name}_{field.column}_renamed"
                    patch.setattr(field, "column", column)
                    columns.add(f'"{column}"')
                for constant, value in _states(model).items():
                    patch.setattr(model, constant, f"{value}_renamed")
                    states.add(f"'{value}_renamed'")
            statements = _built()
    finally:  # the models' own names again for the tests that follow
        for statement in hotpath.STATEMENTS:
            statement.cache_clear()

    left = {}
    for name, sql in statements.items():
        for token in _tokens(sql):
            if token.startswith('"'):
                known = token in tables or token in columns
            elif token.startswith("'"):
                known = token in states
            else:
                known = token in SQL_WORDS or token == "%s" or not token[0].isalpha()
            if not known:
                left.setdefault(name, []).append(token)
    assert left == {}
    assert [name for name, sql in statements.items() if not any(t in sql for t in tables)] == []


def test_the_module_writes_no_table_name_or_state_and_executes_only_built_statements():
    tree = ast.parse(Path(hotpath.__file__).read_text())
    tables = {model._meta.db_table for model in VAULT_MODELS}
    states = {value for model in VAULT_MODELS for value in _states(model).values()}
    written = [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
        if node.value in states
        or any(table in node.value for table in tables)
        or any(f"'{state}'" in node.value for state in states)
    ]
    assert written == []

    built = {statement.__name__ for statement in hotpath.STATEMENTS}
    executed = [
        ast.unparse(node.args[0])
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "execute"
    ]
    by_hand = [
        sql
        for sql in executed
        if sql.removesuffix("()") not in built
        and sql != "'SELECT pg_advisory_xact_lock(%s)'"  # names no table
    ]
    assert by_hand == []
    assert len(executed) == 15
