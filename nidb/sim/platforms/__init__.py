"""Stand-ins of the national platforms nidb works with (issue 17, item 5), each a FastAPI app:

- ``dvcqg``: the National Public Service Portal (Cổng Dịch vụ công quốc gia);
- ``ndxp``: the national data-sharing platform (NDXP / LGSP), catalogue and relay;
- ``emc``: the EMC service-measurement system;
- ``ckan``: the national open-data portal, a CKAN-compatible action API.

nidb reaches them only over HTTP (``nidb.connectors.platforms``); ``nidb sim dvcqg|ndxp|emc|
ckan`` serves them.
"""
