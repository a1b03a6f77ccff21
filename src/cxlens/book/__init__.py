"""The book of business: the customer list behind every filter and the overview's figures.

`cxlens.book.customers.customers` pages through accounts with value, health, risk and open
alerts; `cxlens.book.overview.overview` computes the overview's KPIs and their trends."""
