"""The demo community 天海社区: its disclosures and finances made through the public
application API, its accounts, and its sealed log. Used by ``gongkai demo`` only."""
