"""Pure rules of SMS: numbers, text encoding and segments, statuses, money, limits, ids.

No I/O and no imports of other smsgate packages live here.
"""
