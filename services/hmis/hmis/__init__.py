"""The HMIS service: monthly supervision figures per facility, exported to DHIS2."""
