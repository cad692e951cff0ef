"""Notifications that arrive (thông báo): citizens' and employers' notices delivered by e-mail over
SMTP and by SMS through a gateway over HTTP, in Vietnamese, retried with backoff, each delivery
recorded; opt-in per channel for citizens, opt-out per channel for employers; and, for citizens
who ask, a notice each time a partner or staff member reads their data (docs/notifications.md).

- ``templates``: the texts (Vietnamese, dates dd/mm/yyyy, money in đồng);
- ``contacts``: where to reach a party, and its choices;
- ``collect``: deliveries built from the sources (citizens' notifications, employers' debt
  reminders, the access log), once per event and channel (``event_key``);
- ``channels``: the SMTP and SMS senders, each failure classed transient or permanent;
- ``deliver``: sending what is due, retrying with backoff, recording the outcome;
- ``commands``: ``nidb notify run|status|employer``.
"""
