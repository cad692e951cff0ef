"""Data quality (đúng, đủ, sạch, sống), reports and open data."""
