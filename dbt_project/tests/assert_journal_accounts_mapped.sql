-- Every category the journals post has a general-ledger account (seeds/journal_accounts.csv): unmapped ones are
-- listed in finance.journal_unmapped_lines, never lumped into another account.
select * from {{ ref('journal_unmapped_lines') }}
