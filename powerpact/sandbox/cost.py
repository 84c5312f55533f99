"""Query cost as Shopify publishes it.

- a scalar or enum field costs 0, an object field 1;
- a connection costs 2 plus its page size (``first``/``last``, 1 if absent) times
  the cost of one node (edges and nodes are counted once per node);
- a list of objects asked by ids (``nodes(ids:)``) costs one object per id;
- an interface or union costs the most expensive of its possible selections;
- a mutation field costs 10 (its payload selection is not charged on top), but
  ``productSet``, priced by its input (``product_set_cost``);
- the requested cost uses the page sizes asked for, the actual cost the sizes
  returned.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
    value_from_ast_untyped,
)

MUTATION_COST = 10
MAX_QUERY_COST = 1000
PRODUCT_SET_WEIGHTS = {  # points per item (product_set_cost)
    "variants": Decimal("0.2"),
    "variant_files": Decimal("0.6"),
    "variant_metafields": Decimal("0.4"),
    "product_metafields": Decimal("0.4"),
    "product_files": Decimal("1.9"),
}


def product_set_cost(product: dict[str, Any] | None) -> int:
    """What one ``productSet`` costs, by its ``input`` (a ``ProductSetInput``).

    Shopify's changelog (2025-10): "10 + (variants * 0.2) + (variant_files * 0.6) +
    (variant_metafields * 0.4) + (product_metafields * 0.4) + (product_files * 1.9)"
    (https://shopify.dev/changelog/dynamic-complexity-cost-for-productset-mutation).
    Costs are whole points and the changelog does not say how the fraction goes; its
    examples (1 variant: 10; 20 variants and 5 product metafields: 16; 200 variants,
    10 files and 20 metafields: 77) fit rounding to the nearest point, half up, which
    the sandbox does (rounding down would fit them too, but charge less).
    """
    product = product or {}
    variants = list(product.get("variants") or [])
    counts = {
        "variants": len(variants),
        "variant_files": sum(1 for v in variants if v.get("file")),
        "variant_metafields": sum(len(v.get("metafields") or []) for v in variants),
        "product_metafields": len(product.get("metafields") or []),
        "product_files": len(product.get("files") or []),
    }
    points = MUTATION_COST + sum(
        (PRODUCT_SET_WEIGHTS[k] * n for k, n in counts.items()), start=Decimal(0)
    )
    return int(points.quantize(Decimal(1), rounding=ROUND_HALF_UP))


class CostCalculator:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        variables: dict[str, Any],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables

    def operation_cost(self, operation: OperationDefinitionNode, data: Any = None) -> int:
        root = (
            self.schema.mutation_type
            if operation.operation.value == "mutation"
            else self.schema.query_type
        )
        if operation.operation.value == "mutation":
            return sum(
                self._mutation_cost(field)
                for field, _ in self._fields(operation.selection_set, root)
            )
        return self._selection_cost(operation.selection_set, root, data)

    def _mutation_cost(self, field: FieldNode) -> int:
        if field.name.value == "productSet":
            return product_set_cost(self._argument(field, "input"))
        return MUTATION_COST

    def _fields(self, selection_set: SelectionSetNode, parent: Any) -> list[tuple[FieldNode, Any]]:
        """The field nodes of a selection set, fragments expanded (typed by their condition)."""
        found: list[tuple[FieldNode, Any]] = []
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                found.append((selection, parent))
            elif isinstance(selection, InlineFragmentNode):
                typed = (
                    self.schema.get_type(selection.type_condition.name.value)
                    if selection.type_condition
                    else parent
                )
                found.extend(self._fields(selection.selection_set, typed))
            else:
                assert isinstance(selection, FragmentSpreadNode)  # the third kind of selection
                fragment = self.fragments[selection.name.value]
                typed = self.schema.get_type(fragment.type_condition.name.value)
                found.extend(self._fields(fragment.selection_set, typed))
        return found

    def _argument(self, field: FieldNode, name: str) -> Any:
        for argument in field.arguments or ():
            if argument.name.value == name:
                return value_from_ast_untyped(argument.value, self.variables)
        return None

    def _selection_cost(
        self, selection_set: SelectionSetNode | None, parent: Any, data: Any
    ) -> int:
        if selection_set is None:
            return 0
        fields = self._fields(selection_set, parent)
        if data is None and isinstance(parent, GraphQLInterfaceType | GraphQLUnionType):
            return self._abstract_cost(fields, parent)
        return self._fields_cost(fields, data)

    def _abstract_cost(self, fields: list[tuple[FieldNode, Any]], parent: Any) -> int:
        """Fields on the interface itself plus the dearest type-conditioned group."""
        groups: dict[str, list[tuple[FieldNode, Any]]] = {}
        for field, owner in fields:
            concrete = isinstance(owner, GraphQLObjectType) and owner is not parent
            groups.setdefault(owner.name if concrete else "", []).append((field, owner))
        common = groups.pop("", [])
        shared = [(f, parent if isinstance(parent, GraphQLInterfaceType) else o) for f, o in common]
        dearest = max((self._fields_cost(group, None) for group in groups.values()), default=0)
        return self._fields_cost(shared, None) + dearest

    def _fields_cost(self, fields: list[tuple[FieldNode, Any]], data: Any) -> int:
        total = 0
        for field, owner in fields:
            name = field.name.value
            if name == "__typename" or not isinstance(
                owner, GraphQLObjectType | GraphQLInterfaceType
            ):
                continue
            definition = owner.fields.get(name)
            if definition is None:
                continue
            key = field.alias.value if field.alias else name
            value = data.get(key) if isinstance(data, dict) else None
            cost = self._field_cost(field, get_named_type(definition.type), value, data is not None)
            total += cost * self._requested_items(field, definition.type, data is not None)
        return total

    def _requested_items(self, field: FieldNode, field_type: Any, actual: bool) -> int:
        """How many objects a list field asked by ``ids`` stands for (1 otherwise)."""
        inner = field_type.of_type if is_non_null_type(field_type) else field_type
        if actual or not is_list_type(inner):
            return 1
        ids = self._argument(field, "ids")
        return max(len(ids), 1) if isinstance(ids, list) else 1

    def _field_cost(self, field: FieldNode, named: Any, value: Any, actual: bool) -> int:
        if is_leaf_type(named):
            return 0
        if named.name.endswith("Connection"):
            return self._connection_cost(field, named, value, actual)
        if isinstance(value, list):
            return sum(
                1 + self._selection_cost(field.selection_set, self._concrete(named, v), v)
                for v in value
            )
        if actual and value is None:
            return 0
        return 1 + self._selection_cost(field.selection_set, self._concrete(named, value), value)

    def _connection_cost(self, field: FieldNode, connection: Any, value: Any, actual: bool) -> int:
        requested = self._argument(field, "first") or self._argument(field, "last") or 1
        node_type = (
            get_named_type(connection.fields["nodes"].type)
            if "nodes" in connection.fields
            else None
        )
        per_node = 0
        sample = None
        if actual and isinstance(value, dict):
            nodes = value.get("nodes") or [e.get("node") for e in value.get("edges") or [] if e]
            size = len(nodes)
            sample = nodes
        else:
            size = int(requested)
        for child, _ in (
            self._fields(field.selection_set, connection) if field.selection_set else []
        ):
            if child.name.value in ("nodes", "edges") and node_type is not None:
                selection = child.selection_set
                if child.name.value == "edges" and selection is not None:
                    inner = [
                        n for n, _ in self._fields(selection, connection) if n.name.value == "node"
                    ]
                    selection = inner[0].selection_set if inner else None
                if sample is not None:
                    return 2 + sum(
                        1 + self._selection_cost(selection, node_type, n) for n in sample
                    )
                per_node = max(per_node, 1 + self._selection_cost(selection, node_type, None))
        return 2 + size * per_node

    def _concrete(self, named: Any, value: Any) -> Any:
        if isinstance(named, GraphQLInterfaceType | GraphQLUnionType) and isinstance(value, dict):
            return self.schema.get_type(value.get("__typename", "")) or named
        return named
