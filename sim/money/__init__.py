"""Everything that moves money: the double-entry ledger, the tariff, rail choice at drop-off,
subsidy policies and their lotteries, and the cashier that settles a ride."""
