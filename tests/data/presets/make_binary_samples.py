"""Write the binary preset samples: product_usage.parquet and deliveries.xlsx.

Run from anywhere: `python tests/data/presets/make_binary_samples.py`. The outputs are
committed beside this script; rerunning it rewrites them with the same rows.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
D = dt.date

# account_id (Stripe customer), user_email, date, metric, feature, value
USAGE: list[tuple[str, str | None, dt.date, str, str | None, float]] = [
    ("cus_NwT4rD1sQ8aBcE", "sarah.okafor@northwindtraders.com", D(2024, 1, 8), "login", None, 3),
    (
        "cus_NwT4rD1sQ8aBcE",
        "sarah.okafor@northwindtraders.com",
        D(2024, 1, 8),
        "feature_used",
        "dashboards",
        17,
    ),
    (
        "cus_NwT4rD1sQ8aBcE",
        "sarah.okafor@northwindtraders.com",
        D(2024, 1, 8),
        "feature_used",
        "exports",
        2,
    ),
    ("cus_NwT4rD1sQ8aBcE", "tom.brennan@northwindtraders.com", D(2024, 1, 8), "login", None, 1),
    ("cus_NwT4rD1sQ8aBcE", None, D(2024, 1, 8), "active_users", None, 212),
    ("cus_NwT4rD1sQ8aBcE", None, D(2024, 1, 8), "api_calls", None, 48210),
    ("cus_NwT4rD1sQ8aBcE", None, D(2024, 1, 9), "active_users", None, 236),
    (
        "cus_NwT4rD1sQ8aBcE",
        "sarah.okafor@northwindtraders.com",
        D(2024, 1, 9),
        "session",
        None,
        42.5,
    ),
    (
        "cus_NwT4rD1sQ8aBcF",
        "anna.keller@contoso-pharma.ch",
        D(2024, 1, 29),
        "feature_used",
        "exports",
        9,
    ),
    ("cus_NwT4rD1sQ8aBcF", "anna.keller@contoso-pharma.ch", D(2024, 1, 29), "login", None, 4),
    ("cus_NwT4rD1sQ8aBcF", "lukas.meier@contoso-pharma.ch", D(2024, 1, 29), "login", None, 1),
    ("cus_NwT4rD1sQ8aBcF", None, D(2024, 1, 29), "active_users", None, 301),
    ("cus_NwT4rD1sQ8aBcF", None, D(2024, 1, 29), "api_calls", None, 120344),
    ("cus_NwT4rD1sQ8aBcG", "j.weiss@fabrikam.de", D(2024, 1, 15), "login", None, 2),
    ("cus_NwT4rD1sQ8aBcG", None, D(2024, 1, 15), "active_users", None, 19),
    (
        "cus_NwT4rD1sQ8aBcH",
        "amelie.durand@lumiere-analytique.fr",
        D(2024, 2, 1),
        "session",
        None,
        6.25,
    ),
    ("cus_NwT4rD1sQ8aBcH", None, D(2024, 2, 1), "active_users", None, 3),
    (
        "cus_NwT4rD1sQ8aBcI",
        "marcus.lee@tailspintoys.com",
        D(2023, 12, 18),
        "feature_used",
        "api_keys",
        1,
    ),
    ("cus_NwT4rD1sQ8aBcI", None, D(2023, 12, 18), "api_calls", None, 987654),
    ("cus_NwT4rD1sQ8aBcI", None, D(2023, 12, 18), "active_users", None, 28),
    (
        "cus_NwT4rD1sQ8aBcJ",
        "pieter.devries@wideworldimporters.com",
        D(2024, 2, 7),
        "login",
        None,
        1,
    ),
    (
        "cus_NwT4rD1sQ8aBcJ",
        "ahmed.hassan@wideworldimporters.com",
        D(2024, 2, 7),
        "feature_used",
        "label_printing",
        56,
    ),
    ("cus_NwT4rD1sQ8aBcJ", None, D(2024, 2, 7), "active_users", None, 140),
    ("cus_NwT4rD1sQ8aBcM", "carmen.ruiz@cohowinery.com", D(2024, 1, 9), "login", None, 1),
    ("cus_NwT4rD1sQ8aBcM", None, D(2024, 1, 9), "active_users", None, 2),
    ("cus_NwT4rD1sQ8aBcM", None, D(2024, 2, 6), "active_users", None, 0),
    (
        "cus_NwT4rD1sQ8aBcN",
        "wang.wei@xingchen-tech.cn",
        D(2024, 1, 24),
        "feature_used",
        "reports_zh",
        5,
    ),
    ("cus_NwT4rD1sQ8aBcN", "li.na@xingchen-tech.cn", D(2024, 1, 24), "login", None, 2),
    ("cus_PqR8sT2uVwXyZa", "nora.lindqvist@outlook.com", D(2024, 1, 30), "login", None, 1),
    ("cus_PqR8sT2uVwXyZb", "kaito.yamamoto@example.jp", D(2024, 2, 7), "session", None, 12.0),
]

# Job ID, Order ID, Customer ID, Customer Email, Provider, Service, Promised, Delivered, Status
T = dt.datetime
DELIVERIES: list[
    tuple[str, str, str, str | None, str, str, dt.datetime, dt.datetime | None, str]
] = [
    (
        "JOB-2024-0001",
        "#1001",
        "olivia.brown@cohowinery.com",
        "olivia.brown@cohowinery.com",
        "FastFreight Logistics",
        "Next-day delivery",
        T(2024, 1, 6, 17, 0),
        T(2024, 1, 6, 11, 42),
        "delivered",
    ),
    (
        "JOB-2024-0002",
        "#1002",
        "marcus.lee@tailspintoys.com",
        "marcus.lee@tailspintoys.com",
        "Acme Field Services",
        "Onboarding workshop",
        T(2024, 1, 16, 9, 0),
        T(2024, 1, 16, 9, 0),
        "delivered",
    ),
    (
        "JOB-2024-0003",
        "#1004",
        "j.weiss@fabrikam.de",
        "j.weiss@fabrikam.de",
        "Nordic Install AB",
        "Installation",
        T(2024, 1, 18, 8, 0),
        T(2024, 1, 19, 15, 30),
        "late",
    ),
    (
        "JOB-2024-0004",
        "#1005",
        "kaito.yamamoto@example.jp",
        "kaito.yamamoto@example.jp",
        "Yamato Transport",
        "Standard delivery",
        T(2024, 1, 17, 12, 0),
        T(2024, 1, 17, 10, 5),
        "delivered",
    ),
    (
        "JOB-2024-0005",
        "#1008",
        "rahul@margiestravel.co.uk",
        "rahul@margiestravel.co.uk",
        "FastFreight Logistics",
        "Standard delivery",
        T(2024, 1, 26, 17, 0),
        None,
        "failed",
    ),
    (
        "JOB-2024-0006",
        "#1008",
        "rahul@margiestravel.co.uk",
        "rahul@margiestravel.co.uk",
        "FastFreight Logistics",
        "Redelivery",
        T(2024, 1, 29, 17, 0),
        T(2024, 1, 29, 14, 10),
        "delivered",
    ),
    (
        "JOB-2024-0007",
        "#1011",
        "pieter.devries@wideworldimporters.com",
        "pieter.devries@wideworldimporters.com",
        "Nordic Install AB",
        "Installation",
        T(2024, 2, 8, 8, 0),
        T(2024, 2, 8, 7, 55),
        "delivered",
    ),
    (
        "JOB-2024-0008",
        "#1012",
        "carmen.ruiz@cohowinery.com",
        "carmen.ruiz@cohowinery.com",
        "FastFreight Logistics",
        "Next-day delivery",
        T(2024, 2, 4, 17, 0),
        T(2024, 2, 7, 16, 20),
        "late",
    ),
    (
        "JOB-2024-0009",
        "in_1OZa1bCdEfGh0001",
        "cus_NwT4rD1sQ8aBcE",
        "ap@northwindtraders.com",
        "Acme Field Services",
        "Admin training (remote)",
        T(2024, 2, 12, 15, 0),
        None,
        "scheduled",
    ),
    (
        "JOB-2024-0010",
        "in_1OZa1bCdEfGh0004",
        "cus_NwT4rD1sQ8aBcG",
        "rechnung@fabrikam.de",
        "Nordic Install AB",
        "Sensor calibration",
        T(2024, 1, 25, 8, 0),
        T(2024, 1, 25, 10, 0),
        "delivered",
    ),
    (
        "JOB-2024-0011",
        "in_1OZa1bCdEfGh0015",
        "cus_NwT4rD1sQ8aBcN",
        "finance@xingchen-tech.cn",
        "顺丰速运",
        "Hardware replacement",
        T(2024, 1, 30, 18, 0),
        T(2024, 2, 2, 11, 0),
        "late",
    ),
    (
        "JOB-2024-0012",
        "in_1OZa1bCdEfGh0009",
        "cus_NwT4rD1sQ8aBcJ",
        None,
        "Acme Field Services",
        "Onsite training",
        T(2024, 2, 20, 9, 0),
        None,
        "scheduled",
    ),
    (
        "JOB-2024-0013",
        "#1006",
        "grace.adeyemi@treyresearch.net",
        "grace.adeyemi@treyresearch.net",
        "FastFreight Logistics",
        "Standard delivery",
        T(2024, 1, 22, 17, 0),
        None,
        "failed",
    ),
]


def write_usage(path: Path) -> None:
    schema = pa.schema(
        [
            ("account_id", pa.string()),
            ("user_email", pa.string()),
            ("date", pa.date32()),
            ("metric", pa.string()),
            ("feature", pa.string()),
            ("value", pa.float64()),
        ]
    )
    columns = list(zip(*USAGE, strict=True))
    table = pa.table(
        [pa.array(c, t.type) for c, t in zip(columns, schema, strict=True)], schema=schema
    )
    pq.write_table(table, path)


def write_deliveries(path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Deliveries"
    sheet.append(
        [
            "Job ID",
            "Order ID",
            "Customer ID",
            "Customer Email",
            "Provider",
            "Service",
            "Promised Date",
            "Delivered Date",
            "Status",
        ]
    )
    for row in DELIVERIES:
        sheet.append(list(row))
    for column in ("G", "H"):
        for cell in sheet[column][1:]:
            cell.number_format = "yyyy-mm-dd hh:mm"
    book.save(path)


def main() -> None:
    write_usage(HERE / "product_usage.parquet")
    write_deliveries(HERE / "deliveries.xlsx")


if __name__ == "__main__":
    main()
