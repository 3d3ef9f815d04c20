"""Model objects built from the rows of fixed SQL, as the ORM builds them (issue 17).

Some reads that pages make on every request are written as a constant SQL statement with parameters
(in the owning app's selectors), because Django compiling the query cost more than PostgreSQL answering
it; where the page needs model objects (their methods, their related objects), these build them as a
queryset would: Model.from_db() of the model's concrete fields in order, each value first through its
field's from_db_value() when it has one (a patient's phone numbers, say).
"""

from django.db import connection

_CONVERTERS = {}


def columns(alias, model):
    """(the SQL list of `model`'s columns under the table alias `alias`, their attribute names), in the
    model's field order, which is what built() takes."""
    fields = model._meta.concrete_fields
    return ", ".join(f'{alias}."{f.column}"' for f in fields), tuple(f.attname for f in fields)


def built(model, alias, attnames, values):
    """model.from_db() of a row's values for `attnames` (columns()), on the database `alias`."""
    converters = _CONVERTERS.get(model)
    if converters is None:
        converters = _CONVERTERS[model] = [
            (index, field.from_db_value)
            for index, field in enumerate(model._meta.concrete_fields)
            if hasattr(field, "from_db_value")
        ]
    if converters:
        values = list(values)
        for index, convert in converters:
            values[index] = convert(values[index], None, connection)
    return model.from_db(alias, attnames, values)


def slices(*attnames):
    """Consecutive slices of a row holding each model's columns in turn (each a columns() list)."""
    start, found = 0, []
    for names in attnames:
        found.append(slice(start, start + len(names)))
        start += len(names)
    return found
