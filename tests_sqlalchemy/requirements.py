"""What PostgreSQL through pgwire supports, for SQLAlchemy's compliance suite.

SQLAlchemy's ``SuiteRequirements`` closes every feature a backend might
lack; this class opens those PostgreSQL has (the answers SQLAlchemy's own
requirements give for PostgreSQL) and, where a test stays closed, says why.
"""

import sqlalchemy
from sqlalchemy.testing import exclusions
from sqlalchemy.testing.requirements import SuiteRequirements

open_ = exclusions.open
closed = exclusions.closed


def _on(*features: str):
    """Properties answering 'open' for each name."""
    return {name: property(lambda self: open_()) for name in features}


class _Open(SuiteRequirements):
    pass


# Features PostgreSQL has (SQL, DDL, reflection) and pgwire passes through.
for _name, _prop in _on(
    "create_table_as",
    "create_temp_table_as",
    "table_ddl_if_exists",
    "index_ddl_if_exists",
    "uuid_data_type",
    "unique_constraints_reflect_as_index",
    "table_value_constructor",
    "deferrable_fks",
    "boolean_col_expressions",
    "nullsordering",
    "intersect",
    "except_",
    "window_functions",
    "window_range",
    "window_range_numeric",
    "window_range_non_numeric",
    "ctes",
    "ctes_with_update_delete",
    "ctes_with_values",
    "ctes_on_dml",
    "tuple_in",
    "views",
    "cross_schema_fk_reflection",
    "foreign_key_constraint_name_reflection",
    "implicit_default_schema",
    "default_schema_name_switch",
    "reflects_pk_names",
    "reflect_tables_no_columns",
    "temp_table_comment_reflection",
    "comment_reflection",
    "comment_reflection_full_unicode",
    "constraint_comment_reflection",
    "column_collation_reflection",
    "schema_create_delete",
    "foreign_key_constraint_option_reflection_ondelete",
    "fk_constraint_option_reflection_ondelete_restrict",
    "fk_constraint_option_reflection_ondelete_noaction",
    "foreign_key_constraint_option_reflection_onupdate",
    "fk_constraint_option_reflection_onupdate_restrict",
    "temp_table_names",
    "has_temp_table",
    "temporary_views",
    "create_or_replace_view",
    "index_reflects_included_columns",
    "indexes_check_column_order",
    "indexes_with_expressions",
    "reflect_indexes_with_expressions",
    "inline_check_constraint_reflection",
    "check_constraint_reflection",
    "unicode_ddl",
    "datetime_interval",
    "datetime_literals",
    "datetime_timezone",
    "time_timezone",
    "timestamp_microseconds",
    "datetime_historic",
    "datetime_timezone_historic",
    "date_historic",
    "autocommit",
    "skip_autocommit_rollback",
    "isolation_level",
    "array_type",
    "json_type",
    "legacy_unconditional_json_extract",
    "precision_numerics_enotation_small",
    "precision_numerics_many_significant_digits",
    "precision_numerics_retains_significant_digits",
    "server_defaults",
    "expression_server_defaults",
    "aggregate_order_by",
    "infinity_floats",
    "float_or_double_precision_behaves_generically",
    "savepoints",
    "two_phase_transactions",
    "update_from",
    "delete_from",
    "mod_operator_as_percent_sign",
    "percent_schema_names",
    "order_by_label_with_expression",
    "supports_distinct_on",
    "identity_columns",
    "identity_columns_standard",
    "regexp_match",
    "regexp_replace",
    "fetch_first",
    "fetch_ties",
    "fetch_no_order_by",
    "fetch_offset_with_options",
    "fetch_expression",
    "materialized_views",
    "supports_bitwise_or",
    "supports_bitwise_and",
    "supports_bitwise_not",
    "supports_bitwise_xor",
    "supports_bitwise_shift",
).items():
    setattr(_Open, _name, _prop)


class Requirements(_Open):
    def get_order_by_collation(self, config):
        """A collation every PostgreSQL has, for the COLLATE tests."""
        return "POSIX"

    # -- closed, with the reason ----------------------------------------------

    @property
    def foreign_keys_reflect_as_index(self):
        """PostgreSQL makes no index for a foreign key (MySQL does)."""
        return closed()

    @property
    def unique_index_reflect_as_unique_constraints(self):
        """A unique index is not reported as a constraint by PostgreSQL (MySQL's behaviour)."""
        return closed()

    @property
    def non_updating_cascade(self):
        """PostgreSQL enforces ON UPDATE for foreign keys; the test wants a backend that does not."""
        return closed()

    @property
    def repeated_column_foreign_keys(self):
        """``FOREIGN KEY (a, a)`` is refused by PostgreSQL (column listed twice)."""
        return closed()

    @property
    def repeated_remote_col_foreign_keys(self):
        """``REFERENCES r (c, c)`` needs a unique constraint PostgreSQL cannot have."""
        return closed()

    @property
    def emulated_lastrowid(self):
        """PostgreSQL has no last row id; SQLAlchemy uses RETURNING instead."""
        return closed()

    @property
    def emulated_lastrowid_even_with_sequences(self):
        """As emulated_lastrowid."""
        return closed()

    @property
    def dbapi_lastrowid(self):
        """``cursor.lastrowid`` is None: no row ids in PostgreSQL (use RETURNING)."""
        return closed()

    @property
    def reflect_indexes_with_ascdesc_as_expression(self):
        """Oracle's behaviour: PostgreSQL reflects ASC/DESC as column options."""
        return closed()

    @property
    def materialized_views_reflect_pk(self):
        """A materialized view has no primary key in PostgreSQL."""
        return closed()

    @property
    def nvarchar_types(self):
        """PostgreSQL has no NVARCHAR type."""
        return closed()

    @property
    def reflect_table_options(self):
        """SQLAlchemy's PostgreSQL dialect reflects table options from 2.1 on."""
        return exclusions.only_if(
            lambda config: tuple(int(part) for part in sqlalchemy.__version__.split(".")[:2])
            >= (2, 1),
            "table options are reflected by SQLAlchemy 2.1 and later",
        )

    # -- generated columns: VIRTUAL ones exist from PostgreSQL 18 ---------------

    @property
    def computed_columns(self):
        """Before 18, SQLAlchemy warns that a column without ``persisted`` is made STORED."""
        return exclusions.warns_if(
            "postgresql < 18", r".*PostgreSQL version does not support VIRTUAL", assert_=False
        )

    @property
    def computed_columns_stored(self):
        return self.computed_columns

    @property
    def computed_columns_reflect_persisted(self):
        return self.computed_columns

    @property
    def computed_columns_virtual(self):
        """VIRTUAL generated columns need PostgreSQL 18."""
        return self.computed_columns + exclusions.skip_if("postgresql < 18")

    @property
    def computed_columns_default_persisted(self):
        """Before 18 a generated column is STORED when ``persisted`` is not given."""
        return self.computed_columns + exclusions.only_if("postgresql < 18")

    @property
    def fetch_percent(self):
        """PostgreSQL has no ``FETCH FIRST n PERCENT``."""
        return closed()

    @property
    def json_deserializer_binary(self):
        """The deserializer gets ``str``: pgwire decodes JSON text before handing it over."""
        return closed()

    @property
    def async_dialect(self):
        """Open when the suite runs on ``postgresql+pgwire_async``."""
        return exclusions.only_if(lambda config: config.db.dialect.is_async)
