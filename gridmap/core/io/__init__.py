"""Import and export of every register (KIND) from and to GeoJSON, Shapefile, GeoPackage, CSV
and XLSX, driven by one table (`registers.REGISTERS`)."""
