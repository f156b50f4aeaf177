//! Detects a CRS from `.prj` text or from coordinate value ranges.
