"""Schema migrations, applied in order on start-up.

Each migration is portable SQL with a few dialect slots filled by the backend:
``{pk}`` an auto-increment 64-bit primary key, ``{json}`` a JSON document, ``{ts}`` a
timestamp with time zone and ``{now}`` its current value. Migrations are append-only: a
released one is never edited, a change is a new migration.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "event log, source records, import runs",
        (
            # Append-only: every record imported or received, in arrival order. The whole
            # customer state is derived from it. Messages that carry their own id (HTTP
            # collection) are de-duplicated by (source, message_id); NULLs never collide.
            """CREATE TABLE events (
                seq {pk},
                kind TEXT NOT NULL,
                source TEXT NOT NULL,
                record_id TEXT,
                message_id TEXT,
                payload {json} NOT NULL,
                recorded_at {ts} NOT NULL DEFAULT {now}
            )""",
            "CREATE UNIQUE INDEX ux_events_message ON events (source, message_id) "
            "WHERE message_id IS NOT NULL",
            # The current state of each source record, derived from the log: the record as
            # received (raw) and its normalised view, which identity resolution reads.
            """CREATE TABLE source_records (
                source TEXT NOT NULL,
                record_id TEXT NOT NULL,
                content_hash TEXT NOT NULL,
                first_name TEXT,
                last_name TEXT,
                email TEXT,
                phone TEXT,
                date_of_birth TEXT,
                house_number TEXT,
                street TEXT,
                unit TEXT,
                city TEXT,
                region TEXT,
                postcode TEXT,
                country TEXT,
                loyalty_id TEXT,
                serial_number TEXT,
                updated_at TEXT,
                raw {json} NOT NULL,
                PRIMARY KEY (source, record_id)
            )""",
            """CREATE TABLE import_runs (
                id {pk},
                started_at {ts} NOT NULL,
                finished_at {ts} NOT NULL,
                files {json} NOT NULL,
                imported BIGINT NOT NULL,
                updated BIGINT NOT NULL,
                unchanged BIGINT NOT NULL,
                stale BIGINT NOT NULL,
                rejected BIGINT NOT NULL,
                dropped {json} NOT NULL
            )""",
        ),
    ),
    Migration(
        2,
        "identity: customers, changes, models, corrections",
        (
            # The current customer of every source record (derived by resolution).
            """CREATE TABLE customer_records (
                source TEXT NOT NULL,
                record_id TEXT NOT NULL,
                customer_id TEXT NOT NULL,
                PRIMARY KEY (source, record_id)
            )""",
            "CREATE INDEX ix_customer_records_customer ON customer_records (customer_id)",
            # Merges and splits with their evidence, in order: the feed others follow.
            """CREATE TABLE identity_changes (
                seq {pk},
                kind TEXT NOT NULL,
                customer_id TEXT NOT NULL,
                payload {json} NOT NULL,
                recorded_at {ts} NOT NULL DEFAULT {now}
            )""",
            """CREATE TABLE models (
                name TEXT PRIMARY KEY,
                data {json} NOT NULL,
                trained_at {ts} NOT NULL DEFAULT {now}
            )""",
            # Manual corrections: inputs of their own, respected by every later run.
            """CREATE TABLE identity_corrections (
                id {pk},
                kind TEXT NOT NULL,
                a_source TEXT NOT NULL,
                a_record_id TEXT NOT NULL,
                b_source TEXT NOT NULL,
                b_record_id TEXT NOT NULL,
                reason TEXT,
                created_at {ts} NOT NULL DEFAULT {now}
            )""",
            "CREATE UNIQUE INDEX ux_identity_corrections ON identity_corrections "
            "(kind, a_source, a_record_id, b_source, b_record_id)",
        ),
    ),
    Migration(
        3,
        "API secret keys, idempotency keys",
        (
            # Only the sha256 of a secret is kept: a leaked database leaks no usable key.
            """CREATE TABLE api_keys (
                id {pk},
                name TEXT NOT NULL,
                prefix TEXT NOT NULL,
                secret_hash TEXT NOT NULL UNIQUE,
                scopes {json} NOT NULL,
                created_at {ts} NOT NULL DEFAULT {now},
                revoked_at TEXT
            )""",
            # The first answer to each write, so a retry with the same key repeats it.
            """CREATE TABLE idempotency_keys (
                scope TEXT NOT NULL,
                key TEXT NOT NULL,
                request_hash TEXT NOT NULL,
                ok INTEGER NOT NULL,
                response {json} NOT NULL,
                created_at {ts} NOT NULL DEFAULT {now},
                PRIMARY KEY (scope, key)
            )""",
        ),
    ),
    Migration(
        4,
        "inventory: locations, stock, transfers, reservations",
        (
            # Stores and warehouses; market groups them. ship_capacity is shipments per day
            # (NULL: no limit, as for a warehouse).
            """CREATE TABLE locations (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                kind TEXT NOT NULL,
                market TEXT NOT NULL,
                latitude DOUBLE PRECISION NOT NULL,
                longitude DOUBLE PRECISION NOT NULL,
                pickup INTEGER NOT NULL DEFAULT 0,
                ship_capacity INTEGER
            )""",
            "CREATE INDEX ix_locations_market ON locations (market)",
            # Bumped by every change to locations, so servers can cache them and still see
            # another process's change on the next request.
            "CREATE TABLE inventory_versions (name TEXT PRIMARY KEY, version BIGINT NOT NULL)",
            "INSERT INTO inventory_versions (name, version) VALUES ('locations', 0)",
            # One row per SKU and location. Available = on_hand - reserved - safety_stock is
            # derived, never stored, so it cannot drift.
            """CREATE TABLE stock_levels (
                sku TEXT NOT NULL,
                location_id TEXT NOT NULL REFERENCES locations (id),
                on_hand BIGINT NOT NULL DEFAULT 0 CHECK (on_hand >= 0),
                reserved BIGINT NOT NULL DEFAULT 0 CHECK (reserved >= 0),
                safety_stock BIGINT NOT NULL DEFAULT 0 CHECK (safety_stock >= 0),
                in_transit BIGINT NOT NULL DEFAULT 0 CHECK (in_transit >= 0),
                PRIMARY KEY (sku, location_id)
            )""",
            "CREATE INDEX ix_stock_levels_location ON stock_levels (location_id)",
            # Times in these tables are UTC ISO-8601 text of one fixed width, so they compare
            # as text the same way on both backends.
            """CREATE TABLE transfers (
                id TEXT PRIMARY KEY,
                sku TEXT NOT NULL,
                from_location TEXT NOT NULL REFERENCES locations (id),
                to_location TEXT NOT NULL REFERENCES locations (id),
                quantity BIGINT NOT NULL CHECK (quantity > 0),
                status TEXT NOT NULL,
                expected_arrival TEXT,
                created_at TEXT NOT NULL,
                received_at TEXT
            )""",
            "CREATE INDEX ix_transfers_open ON transfers (sku, to_location) "
            "WHERE status = 'in_transit'",
            """CREATE TABLE reservations (
                id TEXT PRIMARY KEY,
                reference TEXT,
                kind TEXT NOT NULL,
                status TEXT NOT NULL,
                created_at TEXT NOT NULL,
                expires_at TEXT,
                updated_at TEXT NOT NULL
            )""",
            "CREATE INDEX ix_reservations_due ON reservations (expires_at) WHERE status = 'held'",
            """CREATE TABLE reservation_lines (
                reservation_id TEXT NOT NULL REFERENCES reservations (id),
                line INTEGER NOT NULL,
                sku TEXT NOT NULL,
                location_id TEXT NOT NULL,
                quantity BIGINT NOT NULL CHECK (quantity > 0),
                mode TEXT,
                PRIMARY KEY (reservation_id, line)
            )""",
            "CREATE INDEX ix_reservation_lines_location ON reservation_lines (location_id, mode)",
        ),
    ),
    Migration(
        5,
        "real time: sources and write keys, record keys, components, anonymous ids",
        (
            # A system that sends events (web, pos-london), and the sha256 of its write key.
            # Trusted: a server-side system (tills, back office) whose key never leaves it;
            # a browser's key can be copied by anyone, so what it says is not vouched for.
            """CREATE TABLE sources (
                name TEXT PRIMARY KEY,
                prefix TEXT NOT NULL,
                key_hash TEXT NOT NULL UNIQUE,
                trusted INTEGER NOT NULL DEFAULT 0,
                created_at {ts} NOT NULL DEFAULT {now},
                revoked_at TEXT
            )""",
            # Every record's blocking keys as stable 64-bit hashes (resolution/blocking.py):
            # how the real-time matcher finds a record's candidates, and lookups find
            # records by e-mail, phone, loyalty id or serial number.
            """CREATE TABLE record_keys (
                key BIGINT NOT NULL,
                source TEXT NOT NULL,
                record_id TEXT NOT NULL,
                PRIMARY KEY (key, source, record_id)
            )""",
            "CREATE INDEX ix_record_keys_record ON record_keys (source, record_id)",
            # The keys more records hold than a block may (settings.max_block): batch never
            # compares within them, so neither does the real-time matcher.
            "CREATE TABLE big_blocks (key BIGINT PRIMARY KEY, rule TEXT NOT NULL, "
            "size BIGINT NOT NULL)",
            # The component of each record (records linked above the threshold, directly or
            # not): customers never cross one, so one can be resolved again alone.
            "ALTER TABLE customer_records ADD COLUMN component TEXT",
            "CREATE INDEX ix_customer_records_component ON customer_records (component)",
            # Events of anonymous visitors, found again when they identify themselves.
            "ALTER TABLE events ADD COLUMN anonymous_id TEXT",
            # Behaviour only: records' upserts are not indexed, so a file import of a
            # million records pays nothing for them.
            "CREATE INDEX ix_events_record ON events (source, record_id) "
            "WHERE kind NOT IN ('record.upserted', 'record.collected')",
            "CREATE INDEX ix_events_anonymous ON events (source, anonymous_id) "
            "WHERE anonymous_id IS NOT NULL",
            # Which record an anonymous visitor turned out to be (identify with both ids).
            """CREATE TABLE anonymous_ids (
                source TEXT NOT NULL,
                anonymous_id TEXT NOT NULL,
                record_id TEXT NOT NULL,
                PRIMARY KEY (source, anonymous_id)
            )""",
            "CREATE INDEX ix_anonymous_ids_record ON anonymous_ids (source, record_id)",
            # How far a follower of the event log (the real-time matcher) has got.
            "CREATE TABLE cursors (name TEXT PRIMARY KEY, seq BIGINT NOT NULL)",
            # The corrections naming a record, found without reading them all.
            "CREATE INDEX ix_identity_corrections_a ON identity_corrections "
            "(a_source, a_record_id)",
            "CREATE INDEX ix_identity_corrections_b ON identity_corrections "
            "(b_source, b_record_id)",
        ),
    ),
    Migration(
        6,
        "pricing: price books, promotions, coupons and their uses",
        (
            # Prices are exact decimal text (never floats); times are UTC ISO-8601 text, and
            # '' stands for "no start" and "every channel"/"no group" so keys stay unique.
            """CREATE TABLE price_entries (
                sku TEXT NOT NULL,
                market TEXT NOT NULL,
                channel TEXT NOT NULL,
                kind TEXT NOT NULL,
                customer_group TEXT NOT NULL,
                starts_at TEXT NOT NULL,
                ends_at TEXT,
                currency TEXT NOT NULL,
                price TEXT NOT NULL,
                PRIMARY KEY (sku, market, channel, kind, customer_group, starts_at)
            )""",
            """CREATE TABLE promotions (
                id TEXT PRIMARY KEY,
                definition {json} NOT NULL,
                updated_at TEXT NOT NULL
            )""",
            # Bumped by every change to prices or promotions, so servers cache them and still
            # see another process's change on the next request.
            "CREATE TABLE pricing_versions (name TEXT PRIMARY KEY, version BIGINT NOT NULL)",
            "INSERT INTO pricing_versions (name, version) VALUES ('catalogue', 0)",
            # A coupon's uses are counted by conditional updates that re-check its limits.
            """CREATE TABLE coupons (
                code TEXT PRIMARY KEY,
                promotion_id TEXT NOT NULL,
                total_limit BIGINT,
                per_customer_limit BIGINT,
                used BIGINT NOT NULL DEFAULT 0 CHECK (used >= 0)
            )""",
            """CREATE TABLE coupon_customer_uses (
                code TEXT NOT NULL REFERENCES coupons (code),
                customer_id TEXT NOT NULL,
                used BIGINT NOT NULL CHECK (used >= 0),
                PRIMARY KEY (code, customer_id)
            )""",
            """CREATE TABLE coupon_redemptions (
                id TEXT PRIMARY KEY,
                code TEXT NOT NULL REFERENCES coupons (code),
                customer_id TEXT,
                reference TEXT,
                redeemed_at TEXT NOT NULL
            )""",
            "CREATE INDEX ix_coupon_redemptions_code ON coupon_redemptions (code)",
        ),
    ),
    Migration(
        7,
        "value ledger: accounts, transactions, postings, lots, audit, loyalty programme",
        (
            # Gift cards, store credit, loyalty points (holders: balance never below zero,
            # kept here and changed in the transaction that posts) and system accounts, the
            # other side of every movement, whose balance is the sum of their postings.
            # A gift card's code is kept only as its sha256, with its last four characters.
            """CREATE TABLE ledger_accounts (
                id TEXT PRIMARY KEY,
                kind TEXT NOT NULL,
                unit TEXT NOT NULL,
                customer_id TEXT,
                code_hash TEXT UNIQUE,
                last4 TEXT,
                balance BIGINT NOT NULL DEFAULT 0,
                created_at TEXT NOT NULL,
                CHECK (kind = 'system' OR balance >= 0)
            )""",
            "CREATE INDEX ix_ledger_accounts_customer ON ledger_accounts (customer_id) "
            "WHERE customer_id IS NOT NULL",
            # spend: the order value a transaction adds to (or, refunded, takes from) the
            # customer's rolling spend, which sets their loyalty tier.
            """CREATE TABLE ledger_transactions (
                id TEXT PRIMARY KEY,
                kind TEXT NOT NULL,
                created_at TEXT NOT NULL,
                order_id TEXT,
                customer_id TEXT,
                spend BIGINT,
                currency TEXT,
                memo TEXT NOT NULL DEFAULT ''
            )""",
            "CREATE INDEX ix_ledger_transactions_order ON ledger_transactions (order_id) "
            "WHERE order_id IS NOT NULL",
            "CREATE INDEX ix_ledger_transactions_spend ON ledger_transactions "
            "(customer_id, created_at) WHERE spend IS NOT NULL",
            # One row per order the ledger has earned or refunded for: earning and refunding
            # lock it first, so two of them for one order never run side by side.
            "CREATE TABLE ledger_orders (order_id TEXT PRIMARY KEY)",
            # Append-only: never updated, never deleted.
            """CREATE TABLE ledger_postings (
                id {pk},
                transaction_id TEXT NOT NULL REFERENCES ledger_transactions (id),
                account_id TEXT NOT NULL REFERENCES ledger_accounts (id),
                unit TEXT NOT NULL,
                amount BIGINT NOT NULL CHECK (amount <> 0),
                lot_id TEXT
            )""",
            "CREATE INDEX ix_ledger_postings_account ON ledger_postings (account_id)",
            "CREATE INDEX ix_ledger_postings_transaction ON ledger_postings (transaction_id)",
            # Each credit to a holder is a lot with its expiry; the remaining amounts of an
            # account's lots sum to its balance.
            """CREATE TABLE ledger_lots (
                id TEXT PRIMARY KEY,
                account_id TEXT NOT NULL REFERENCES ledger_accounts (id),
                amount BIGINT NOT NULL,
                remaining BIGINT NOT NULL CHECK (remaining >= 0),
                expires_at TEXT,
                created_at TEXT NOT NULL
            )""",
            "CREATE INDEX ix_ledger_lots_open ON ledger_lots (account_id) WHERE remaining > 0",
            "CREATE INDEX ix_ledger_lots_due ON ledger_lots (expires_at) "
            "WHERE remaining > 0 AND expires_at IS NOT NULL",
            # Who did what by hand (goodwill, manual transactions, gift cards issued), and why.
            """CREATE TABLE ledger_audit (
                id {pk},
                at TEXT NOT NULL,
                actor TEXT NOT NULL,
                action TEXT NOT NULL,
                customer_id TEXT,
                account_id TEXT,
                transaction_id TEXT,
                reason TEXT NOT NULL,
                details {json} NOT NULL
            )""",
            "CREATE INDEX ix_ledger_audit_customer ON ledger_audit (customer_id)",
            """CREATE TABLE loyalty_programmes (
                name TEXT PRIMARY KEY,
                data {json} NOT NULL,
                updated_at TEXT NOT NULL
            )""",
        ),
    ),
    Migration(
        8,
        "activity: orders, returns, registrations, repairs, e-mail, browsing; accounts, mail",
        (
            # Reference data of the retailer: stores and products (one row per currency).
            """CREATE TABLE activity_stores (
                store_id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                city TEXT NOT NULL,
                country TEXT NOT NULL,
                postcode TEXT NOT NULL,
                lat DOUBLE PRECISION,
                lon DOUBLE PRECISION,
                kind TEXT NOT NULL
            )""",
            """CREATE TABLE activity_products (
                sku TEXT NOT NULL,
                currency TEXT NOT NULL,
                name TEXT NOT NULL,
                category TEXT NOT NULL,
                price_minor BIGINT NOT NULL,
                PRIMARY KEY (sku, currency)
            )""",
            # What people did, each row keyed by the source record that did it: a customer's
            # activity is her records' activity, so identity changes rewrite nothing here.
            """CREATE TABLE activity_orders (
                order_id TEXT PRIMARY KEY,
                source TEXT NOT NULL,
                record_id TEXT NOT NULL,
                channel TEXT NOT NULL,
                store_id TEXT NOT NULL DEFAULT '',
                associate_id TEXT NOT NULL DEFAULT '',
                ordered_at TEXT NOT NULL,
                currency TEXT NOT NULL,
                total_minor BIGINT NOT NULL
            )""",
            "CREATE INDEX ix_activity_orders_record ON activity_orders (source, record_id)",
            """CREATE TABLE activity_order_lines (
                order_id TEXT NOT NULL,
                line_no INTEGER NOT NULL,
                sku TEXT NOT NULL,
                quantity INTEGER NOT NULL,
                unit_price_minor BIGINT NOT NULL,
                serial_number TEXT NOT NULL DEFAULT '',
                PRIMARY KEY (order_id, line_no)
            )""",
            """CREATE TABLE activity_returns (
                order_id TEXT NOT NULL,
                sku TEXT NOT NULL,
                returned_at TEXT NOT NULL,
                amount_minor BIGINT NOT NULL,
                PRIMARY KEY (order_id, sku, returned_at)
            )""",
            """CREATE TABLE activity_registrations (
                source TEXT NOT NULL,
                record_id TEXT NOT NULL,
                serial_number TEXT NOT NULL,
                sku TEXT NOT NULL,
                store_id TEXT NOT NULL DEFAULT '',
                purchased_on TEXT NOT NULL DEFAULT '',
                registered_at TEXT NOT NULL,
                PRIMARY KEY (source, record_id, serial_number)
            )""",
            "CREATE INDEX ix_activity_registrations_serial ON activity_registrations "
            "(serial_number)",
            """CREATE TABLE activity_repairs (
                repair_id TEXT PRIMARY KEY,
                serial_number TEXT NOT NULL,
                source TEXT NOT NULL,
                record_id TEXT NOT NULL,
                store_id TEXT NOT NULL,
                received_at TEXT NOT NULL
            )""",
            "CREATE INDEX ix_activity_repairs_record ON activity_repairs (source, record_id)",
            """CREATE TABLE activity_repair_events (
                repair_id TEXT NOT NULL,
                status TEXT NOT NULL,
                at TEXT NOT NULL,
                store_id TEXT NOT NULL DEFAULT '',
                PRIMARY KEY (repair_id, status, at)
            )""",
            """CREATE TABLE activity_email (
                source TEXT NOT NULL,
                record_id TEXT NOT NULL,
                campaign_id TEXT NOT NULL,
                event TEXT NOT NULL,
                at TEXT NOT NULL,
                url TEXT NOT NULL DEFAULT '',
                PRIMARY KEY (source, record_id, campaign_id, event, at)
            )""",
            """CREATE TABLE activity_browsing (
                anonymous_id TEXT NOT NULL,
                session_id TEXT NOT NULL,
                source TEXT NOT NULL DEFAULT '',
                record_id TEXT NOT NULL DEFAULT '',
                event TEXT NOT NULL,
                sku TEXT NOT NULL DEFAULT '',
                at TEXT NOT NULL,
                PRIMARY KEY (anonymous_id, session_id, event, sku, at)
            )""",
            "CREATE INDEX ix_activity_browsing_record ON activity_browsing (source, record_id) "
            "WHERE record_id <> ''",
            # Sign-up recognition: a code e-mailed to a known customer, kept only as a hash.
            """CREATE TABLE account_verifications (
                id TEXT PRIMARY KEY,
                customer_id TEXT NOT NULL,
                email TEXT NOT NULL,
                code_hash TEXT NOT NULL,
                expires_at TEXT NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0,
                verified_at TEXT
            )""",
            "CREATE INDEX ix_account_verifications_email ON account_verifications "
            "(email, expires_at)",
            # Mail to send (repair status changes, codes), sent once each by its key.
            """CREATE TABLE outbox (
                id {pk},
                key TEXT NOT NULL UNIQUE,
                recipient TEXT NOT NULL,
                subject TEXT NOT NULL,
                body TEXT NOT NULL,
                created_at TEXT NOT NULL,
                sent_at TEXT
            )""",
        ),
    ),
    Migration(
        9,
        "customer aliases: the ids merged into each customer",
        (
            # old_id now belongs to customer_id (kept current along chains of merges), from
            # the merges of identity_changes; the cursor "customer_aliases" says how far.
            """CREATE TABLE customer_aliases (
                old_id TEXT PRIMARY KEY,
                customer_id TEXT NOT NULL
            )""",
            "CREATE INDEX ix_customer_aliases_customer ON customer_aliases (customer_id)",
        ),
    ),
    Migration(
        10,
        "identity: which identifier values several people share",
        (
            # The values (by stable key, see resolution/sharing.py) decided shared over all
            # their holders, and whether a household's: the real-time matcher decides again
            # only the values whose holders changed. A value not here is not shared.
            "CREATE TABLE shared_values (key BIGINT PRIMARY KEY, household INTEGER NOT NULL)",
        ),
    ),
    Migration(
        11,
        "identity: resolving outside the write lock",
        (
            # Records indexed by the follower and not yet placed: a run resolves them after
            # its indexing has committed, and removes them when it places them; those a
            # crash left behind are resolved when a follower starts.
            """CREATE TABLE pending_resolution (
                source TEXT NOT NULL,
                record_id TEXT NOT NULL,
                PRIMARY KEY (source, record_id)
            )""",
            # What each write to the identity graph changed, as tags (see
            # store/resolving.py), by generation: a resolution begun at an older one is
            # placed only if nothing it read changed since.
            """CREATE TABLE identity_writes (
                gen BIGINT NOT NULL,
                tag TEXT NOT NULL,
                PRIMARY KEY (gen, tag)
            )""",
        ),
    ),
    Migration(
        12,
        "the follower's dead letters: events that cannot be applied",
        (
            # An event of the log the follower could not apply, set aside so that the
            # others are (the cursor moves past it): what it is, why it failed (the error
            # without the values it quoted), since when and how often. A retry that
            # applies it sets resolved_at; one that fails again keeps it open.
            """CREATE TABLE dead_letters (
                seq BIGINT PRIMARY KEY,
                kind TEXT NOT NULL,
                source TEXT NOT NULL,
                name TEXT NOT NULL DEFAULT '',
                error TEXT NOT NULL,
                first_failed_at TEXT NOT NULL,
                last_failed_at TEXT NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 1,
                resolved_at TEXT
            )""",
            "CREATE INDEX ix_dead_letters_open ON dead_letters (seq) WHERE resolved_at IS NULL",
        ),
    ),
    Migration(
        13,
        "trust: what a public write key's events claim, and which claims are verified",
        (
            # Records first written by an untrusted source's events: their e-mail and phone
            # are the visitor's claims, and the source's events may change only these.
            """CREATE TABLE claimed_records (
                source TEXT NOT NULL,
                record_id TEXT NOT NULL,
                PRIMARY KEY (source, record_id)
            )""",
            # Those collected before: an untrusted source's records that no file gave.
            "INSERT INTO claimed_records (source, record_id) "
            "SELECT source, record_id FROM events WHERE kind = 'record.collected' "
            "AND record_id IS NOT NULL AND source IN (SELECT name FROM sources WHERE trusted = 0) "
            "EXCEPT SELECT source, record_id FROM events WHERE kind = 'record.upserted'",
            # Claims proved (a code sent to the address came back): evidence from then on.
            """CREATE TABLE verified_claims (
                source TEXT NOT NULL,
                record_id TEXT NOT NULL,
                field TEXT NOT NULL,
                value TEXT NOT NULL,
                verified_at TEXT NOT NULL,
                PRIMARY KEY (source, record_id, field, value)
            )""",
            # Orders an untrusted source sent: shown, but not her purchases until verified.
            "CREATE TABLE unvouched_orders (order_id TEXT PRIMARY KEY)",
        ),
    ),
    Migration(
        14,
        "sign-up limits by mailbox and client; outbox claims",
        (
            # Codes are rationed per mailbox (the normalised address: every spelling of one
            # Gmail box is one) and per client (a hash of its address), over the last hour.
            "ALTER TABLE account_verifications ADD COLUMN mailbox TEXT NOT NULL DEFAULT ''",
            "ALTER TABLE account_verifications ADD COLUMN client TEXT NOT NULL DEFAULT ''",
            "UPDATE account_verifications SET mailbox = email",
            "CREATE INDEX ix_account_verifications_mailbox ON account_verifications "
            "(mailbox, expires_at)",
            "CREATE INDEX ix_account_verifications_client ON account_verifications "
            "(client, expires_at)",
            # A sender claims a message before sending it, so that two never send one; a
            # claim older than a while is a crashed sender's and may be taken over.
            "ALTER TABLE outbox ADD COLUMN claimed_by TEXT",
            "ALTER TABLE outbox ADD COLUMN claimed_at TEXT",
            "CREATE INDEX ix_outbox_unsent ON outbox (id) WHERE sent_at IS NULL",
        ),
    ),
    Migration(
        15,
        "sources: the previous write key during a rotation's grace",
        (
            # `kenning sources rotate --grace`: the replaced key's hash, taken too until the
            # unix time in previous_key_until, so senders can be moved to the new key.
            "ALTER TABLE sources ADD COLUMN previous_key_hash TEXT",
            "ALTER TABLE sources ADD COLUMN previous_key_until BIGINT",
            # Every collected request looks its key up: both probes use an index.
            "CREATE INDEX ix_sources_previous_key ON sources (previous_key_hash)",
        ),
    ),
    Migration(
        16,
        "identity review: pairs the model is least sure of, and people's answers",
        (
            # A person's answer on two records (a before b in key order): one person
            # (link = 1) or two. The next batch run trains on them; a new answer on a
            # pair replaces the old. They teach the model, unlike identity_corrections,
            # which bind every run whatever the model says.
            """CREATE TABLE review_answers (
                a_source TEXT NOT NULL,
                a_record_id TEXT NOT NULL,
                b_source TEXT NOT NULL,
                b_record_id TEXT NOT NULL,
                link INTEGER NOT NULL,
                answered_by TEXT,
                note TEXT,
                answered_at {ts} NOT NULL,
                PRIMARY KEY (a_source, a_record_id, b_source, b_record_id)
            )""",
            # The pairs the last batch run scored nearest its threshold, most uncertain
            # first (ordinal), with the numbers of their waterfall (explanation: levels and
            # weights, no record values: those are read from source_records when shown).
            """CREATE TABLE review_pairs (
                a_source TEXT NOT NULL,
                a_record_id TEXT NOT NULL,
                b_source TEXT NOT NULL,
                b_record_id TEXT NOT NULL,
                ordinal INTEGER NOT NULL,
                explanation {json} NOT NULL,
                PRIMARY KEY (a_source, a_record_id, b_source, b_record_id)
            )""",
            "CREATE INDEX ix_review_pairs_ordinal ON review_pairs (ordinal)",
        ),
    ),
)
