"""Operations: backup and restore of the SQLite file (`chamberbot backup|restore`, wired in
chamberbot/ops_cli.py: they must not open the services, which a manifest's commands do)."""
