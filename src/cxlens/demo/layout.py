"""The files the demo writes: one per source preset, columns exactly as docs/source-exports.md."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SourceFile:
    preset: str
    system: str
    file: str
    columns: tuple[str, ...]


SOURCE_FILES = (
    SourceFile(
        "salesforce_accounts",
        "salesforce",
        "accounts.csv",
        (
            "Id",
            "Name",
            "Website",
            "Industry",
            "NumberOfEmployees",
            "Type",
            "Customer_Segment__c",
            "BillingStreet",
            "BillingCity",
            "BillingState",
            "BillingPostalCode",
            "BillingCountry",
            "Phone",
            "Owner_Name",
            "CreatedDate",
            "LastModifiedDate",
        ),
    ),
    SourceFile(
        "salesforce_contacts",
        "salesforce",
        "contacts.csv",
        (
            "Id",
            "AccountId",
            "FirstName",
            "LastName",
            "Email",
            "Phone",
            "Title",
            "MailingCity",
            "MailingCountry",
            "Champion__c",
            "Left_Company_Date__c",
            "CreatedDate",
            "LastModifiedDate",
        ),
    ),
    SourceFile(
        "salesforce_opportunities",
        "salesforce",
        "opportunities.csv",
        (
            "Id",
            "AccountId",
            "Name",
            "StageName",
            "Amount",
            "CurrencyIsoCode",
            "Type",
            "CloseDate",
            "CreatedDate",
            "Owner_Name",
        ),
    ),
    SourceFile(
        "salesforce_tasks",
        "salesforce",
        "tasks.csv",
        (
            "Id",
            "WhoId",
            "WhatId",
            "Subject",
            "Description",
            "ActivityDate",
            "Type",
            "Owner_Name",
            "Owner_Role",
        ),
    ),
    SourceFile(
        "hubspot_contacts",
        "hubspot",
        "hubspot_contacts.csv",
        (
            "Record ID",
            "First Name",
            "Last Name",
            "Email",
            "Phone Number",
            "Company Name",
            "Job Title",
            "City",
            "Country/Region",
            "Lifecycle Stage",
            "Contact owner",
            "Create Date",
            "Last Modified Date",
        ),
    ),
    SourceFile(
        "zendesk_tickets",
        "zendesk",
        "zendesk_tickets.csv",
        (
            "Id",
            "Requester id",
            "Requester",
            "Requester email",
            "Organization",
            "Subject",
            "Status",
            "Priority",
            "Ticket type",
            "Via",
            "Group",
            "Assignee",
            "Created at",
            "First reply time in minutes",
            "Due date",
            "Solved at",
        ),
    ),
    SourceFile(
        "stripe_customers",
        "stripe",
        "stripe_customers.csv",
        (
            "id",
            "Name",
            "Email",
            "Phone",
            "Description",
            "Created (UTC)",
            "Address Line1",
            "Address City",
            "Address Country",
            "Metadata: salesforce_id",
        ),
    ),
    SourceFile(
        "stripe_invoices",
        "stripe",
        "stripe_invoices.csv",
        (
            "id",
            "Customer",
            "Customer Email",
            "Customer Name",
            "Number",
            "Status",
            "Amount Due",
            "Amount Paid",
            "Currency",
            "Date (UTC)",
            "Due Date (UTC)",
            "Paid At (UTC)",
            "Subscription",
        ),
    ),
    SourceFile(
        "chartmogul_activities",
        "stripe",
        "mrr_activities.csv",
        (
            "Date",
            "Customer",
            "Customer external ID",
            "Activity type",
            "Plan",
            "Quantity",
            "MRR movement",
            "Currency",
            "Subscription external ID",
            "Activity ID",
        ),
    ),
    SourceFile(
        "shopify_orders",
        "shopify",
        "shopify_orders.csv",
        (
            "Id",
            "Name",
            "Email",
            "Billing Name",
            "Billing Phone",
            "Billing Company",
            "Financial Status",
            "Created at",
            "Currency",
            "Subtotal",
            "Total",
            "Lineitem quantity",
            "Lineitem name",
            "Lineitem sku",
            "Vendor",
        ),
    ),
    SourceFile(
        "survey_responses",
        "survey",
        "survey_responses.csv",
        (
            "Response ID",
            "Respondent Email",
            "Respondent Name",
            "Survey",
            "Metric",
            "Score",
            "Comment",
            "Touchpoint",
            "Channel",
            "Submitted At",
        ),
    ),
    SourceFile(
        "social_mentions",
        "social",
        "social_mentions.csv",
        (
            "Mention ID",
            "Date",
            "Platform",
            "Author",
            "Author Name",
            "Followers",
            "Url",
            "Full Text",
            "Sentiment",
        ),
    ),
    SourceFile(
        "product_usage",
        "product",
        "product_usage.parquet",
        ("account_id", "user_email", "date", "metric", "feature", "value"),
    ),
    SourceFile(
        "community_posts",
        "community",
        "community_posts.jsonl",
        ("id", "type", "created_at", "author", "title", "body", "topic", "votes", "status"),
    ),
    SourceFile(
        "provider_deliveries",
        "deliveries",
        "deliveries.xlsx",
        (
            "Job ID",
            "Order ID",
            "Customer ID",
            "Customer Email",
            "Provider",
            "Service",
            "Promised Date",
            "Delivered Date",
            "Status",
        ),
    ),
)
BY_FILE = {s.file: s for s in SOURCE_FILES}


def demo_sources() -> dict[str, dict[str, str]]:
    """The `sources:` block of a workspace file (cxlens.yaml) for the demo company's files."""
    return {s.preset: {"preset": s.preset, "path": f"data/{s.file}"} for s in SOURCE_FILES}


def demo_identity() -> dict[str, Any]:
    """Identity settings for the demo workspace: which systems the company trusts most."""
    return {
        "trust": [
            "salesforce", "stripe", "hubspot", "zendesk", "shopify", "survey", "product",
            "deliveries", "community", "social",
        ],
        "survivorship": {"name": "most_complete", "phone": "most_recent"},
    }  # fmt: skip


def demo_value() -> dict[str, Any]:
    """Value settings for the demo workspace: it bills in USD, EUR and GBP."""
    return {"currency": "USD", "rates": {"EUR": 1.08, "GBP": 1.27}}
