"""Sources to a validated unit x year panel, plus labels."""
