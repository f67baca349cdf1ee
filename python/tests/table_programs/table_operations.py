"""PyFlink's Table API operations (the Table API page), written for PyFlink:
select, where/filter, alias, add/drop/rename columns, distinct, group_by,
joins, union_all, order_by, limit, and expression methods."""
from pyflink.table import DataTypes, EnvironmentSettings, TableEnvironment
from pyflink.table.expressions import call_sql, col, concat, if_then_else, lit

t_env = TableEnvironment.create(EnvironmentSettings.in_batch_mode())
t_env.get_config().set("parallelism.default", "1")

orders = t_env.from_elements([("Jack", "FRANCE", 10), ("Rose", "ENGLAND", 30), ("Jack", "FRANCE", 20),
                              ("Bob", None, 5)],
                             DataTypes.ROW([DataTypes.FIELD("name", DataTypes.STRING()),
                                            DataTypes.FIELD("country", DataTypes.STRING()),
                                            DataTypes.FIELD("revenue", DataTypes.INT())]))
customers = t_env.from_elements([("Jack", 30), ("Rose", 25), ("Ann", 40)], ["cname", "age"])


def show(table):
    print(sorted(tuple(r) for r in table.execute().collect()))


show(orders.select(col("name"), col("revenue") * 2))
show(orders.where(col("country") == "FRANCE").select(col("name"), col("revenue")))
show(orders.filter(col("revenue") > 10))
show(orders.alias("n", "c", "r").select(col("n"), col("r")))
show(orders.add_columns(concat(col("name"), "!").alias("loud")))
show(orders.add_or_replace_columns((col("revenue") + 1).alias("revenue")))
show(orders.drop_columns(col("country")))
show(orders.rename_columns(col("name").alias("who"), col("revenue").alias("amount")).select(col("who"), col("amount")))
show(orders.select(col("name")).distinct())
show(orders.group_by(col("name")).select(col("name"), col("revenue").sum.alias("total"), col("revenue").count.alias("n")))
show(orders.join(customers).where(col("name") == col("cname")).select(col("name"), col("revenue"), col("age")))
show(orders.join(customers, col("name") == col("cname")).select(col("name"), col("age")))
show(customers.left_outer_join(orders, col("cname") == col("name")).select(col("cname"), col("revenue")))
show(orders.select(col("name")).union_all(customers.select(col("cname"))))
orders.order_by(col("revenue").desc).limit(2).execute().print()
orders.order_by(col("revenue").asc).limit(2, 1).execute().print()
# Expression methods.
show(orders.select(col("name").upper_case, col("name").lower_case, col("name").char_length,
                   col("name").substring(1, 2), col("revenue").cast(DataTypes.STRING()),
                   col("country").is_null, col("revenue").between(6, 20), col("name").in_("Jack", "Bob"),
                   col("name").substring(2), col("revenue") % 7, -col("revenue"), col("revenue").abs))
show(orders.select(if_then_else(col("revenue") > 15, "big", "small").alias("size"),
                   col("country").if_null("?"), call_sql("CONCAT(name, '-', CAST(revenue AS STRING))")))
show(orders.where((col("revenue") > 5) & ~(col("name") == "Rose") | col("country").is_null).select(col("name")))
orders.print_schema()
print(orders.get_schema().get_field_names())
