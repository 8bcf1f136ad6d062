"""The customer, whole: golden record with lineage, computed traits, the recognition
greeting and sign-up codes. Pure: handed a customer's records and activity, no I/O."""
