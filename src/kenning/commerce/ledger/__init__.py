"""The value ledger: gift cards, store credit and loyalty points on one double-entry ledger.
Pure: accounts, transactions whose postings sum to zero, expiring lots, loyalty earn rules and
tiers, refund reversals. No I/O; the service hands these types to and from the store."""
