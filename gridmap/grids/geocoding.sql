-- Geocoding in the database (PostGIS is the spatial truth).
--
-- The rule, fixed and documented: a point belongs to the primary-layer grid whose boundary
-- covers it, edge included. Where several do (a shared edge or vertex), the grid with the
-- lowest code wins; CJ/T 213 numbers grids west→east, north→south, so an edge point goes to
-- its north-western neighbour. A point in no grid gets NULL: "unassigned", queued, never dropped.
--
-- Triggers keep `grid_id` right on every insert and update. Bulk paths (regrid, imports, the
-- demo generator) set the transaction-local setting gridmap.bulk = 'on', which makes the row
-- triggers stand aside, and then place every row with one set-based statement instead. The
-- cascade triggers check the setting in their WHEN clause, so in a batch they do not fire at
-- all (no function call and no queued after-trigger event per row).

CREATE OR REPLACE FUNCTION gridmap_bulk() RETURNS boolean
LANGUAGE sql STABLE AS $$ SELECT coalesce(current_setting('gridmap.bulk', true), '') = 'on' $$;

CREATE OR REPLACE FUNCTION gridmap_grid_at(pt geometry) RETURNS bigint
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT a.id
    FROM grids_area a JOIN grids_gridlayer l ON l.id = a.layer_id AND l.is_primary
    WHERE a.level = 'grid' AND ST_Intersects(a.boundary, pt)
    ORDER BY a.code
    LIMIT 1
$$;

-- buildings: location is a point on the footprint; grid from that point.
CREATE OR REPLACE FUNCTION gridmap_place_building() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.footprint IS NOT NULL THEN
        NEW.location := ST_PointOnSurface(NEW.footprint);
    END IF;
    IF NOT gridmap_bulk() THEN
        NEW.grid_id := gridmap_grid_at(NEW.location);
    END IF;
    RETURN NEW;
END $$;

-- facilities: location is a point on the point or line.
CREATE OR REPLACE FUNCTION gridmap_place_facility() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF GeometryType(NEW.geom) NOT IN ('POINT', 'LINESTRING', 'MULTILINESTRING') THEN
        RAISE EXCEPTION 'a facility is a point or a line, not %', GeometryType(NEW.geom)
            USING ERRCODE = 'check_violation';
    END IF;
    NEW.location := ST_PointOnSurface(NEW.geom);
    IF NOT gridmap_bulk() THEN
        NEW.grid_id := gridmap_grid_at(NEW.location);
    END IF;
    RETURN NEW;
END $$;

-- organisations: their own point, else their building's.
CREATE OR REPLACE FUNCTION gridmap_place_organisation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.location IS NULL AND NEW.building_id IS NOT NULL THEN
        SELECT b.location INTO NEW.location FROM places_building b WHERE b.id = NEW.building_id;
    END IF;
    IF NOT gridmap_bulk() THEN
        NEW.grid_id := gridmap_grid_at(NEW.location);
    END IF;
    RETURN NEW;
END $$;

-- visits: the GPS point, else the grid of what was visited.
CREATE OR REPLACE FUNCTION gridmap_place_visit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT gridmap_bulk() THEN
        NEW.grid_id := coalesce(
            gridmap_grid_at(NEW.location),
            (SELECT grid_id FROM people_person WHERE id = NEW.person_id),
            (SELECT grid_id FROM people_household WHERE id = NEW.household_id),
            (SELECT grid_id FROM places_building WHERE id = NEW.building_id),
            (SELECT grid_id FROM places_organisation WHERE id = NEW.organisation_id));
    END IF;
    RETURN NEW;
END $$;

-- dwellings take the building's grid; households and people take the dwelling's.
CREATE OR REPLACE FUNCTION gridmap_place_dwelling() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT gridmap_bulk() THEN
        SELECT b.grid_id INTO NEW.grid_id FROM places_building b WHERE b.id = NEW.building_id;
    END IF;
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION gridmap_place_by_dwelling() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT gridmap_bulk() THEN
        NEW.grid_id := (SELECT d.grid_id FROM places_dwelling d WHERE d.id = NEW.dwelling_id);
    END IF;
    RETURN NEW;
END $$;

-- when a building or dwelling moves grid, what stands on it moves too (outside a batch: the
-- triggers' WHEN clause).
CREATE OR REPLACE FUNCTION gridmap_cascade_building() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE places_dwelling SET grid_id = NEW.grid_id
    WHERE building_id = NEW.id AND grid_id IS DISTINCT FROM NEW.grid_id;
    UPDATE places_organisation SET grid_id = NEW.grid_id
    WHERE building_id = NEW.id AND location = OLD.location AND grid_id IS DISTINCT FROM NEW.grid_id;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION gridmap_cascade_dwelling() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE people_household SET grid_id = NEW.grid_id
    WHERE dwelling_id = NEW.id AND grid_id IS DISTINCT FROM NEW.grid_id;
    UPDATE people_person SET grid_id = NEW.grid_id
    WHERE dwelling_id = NEW.id AND grid_id IS DISTINCT FROM NEW.grid_id;
    RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS place_building ON places_building;
CREATE TRIGGER place_building BEFORE INSERT OR UPDATE OF footprint, location ON places_building
    FOR EACH ROW EXECUTE FUNCTION gridmap_place_building();
DROP TRIGGER IF EXISTS cascade_building ON places_building;
CREATE TRIGGER cascade_building AFTER UPDATE OF grid_id ON places_building
    FOR EACH ROW WHEN (OLD.grid_id IS DISTINCT FROM NEW.grid_id AND NOT gridmap_bulk()) EXECUTE FUNCTION gridmap_cascade_building();
DROP TRIGGER IF EXISTS place_facility ON places_facility;
CREATE TRIGGER place_facility BEFORE INSERT OR UPDATE OF geom ON places_facility
    FOR EACH ROW EXECUTE FUNCTION gridmap_place_facility();
DROP TRIGGER IF EXISTS place_organisation ON places_organisation;
CREATE TRIGGER place_organisation BEFORE INSERT OR UPDATE OF location, building_id ON places_organisation
    FOR EACH ROW EXECUTE FUNCTION gridmap_place_organisation();
DROP TRIGGER IF EXISTS place_visit ON people_visit;
CREATE TRIGGER place_visit BEFORE INSERT OR UPDATE OF location, person_id, household_id, building_id, organisation_id ON people_visit
    FOR EACH ROW EXECUTE FUNCTION gridmap_place_visit();
DROP TRIGGER IF EXISTS place_dwelling ON places_dwelling;
CREATE TRIGGER place_dwelling BEFORE INSERT OR UPDATE OF building_id ON places_dwelling
    FOR EACH ROW EXECUTE FUNCTION gridmap_place_dwelling();
DROP TRIGGER IF EXISTS cascade_dwelling ON places_dwelling;
CREATE TRIGGER cascade_dwelling AFTER UPDATE OF grid_id ON places_dwelling
    FOR EACH ROW WHEN (OLD.grid_id IS DISTINCT FROM NEW.grid_id AND NOT gridmap_bulk()) EXECUTE FUNCTION gridmap_cascade_dwelling();
DROP TRIGGER IF EXISTS place_household ON people_household;
CREATE TRIGGER place_household BEFORE INSERT OR UPDATE OF dwelling_id ON people_household
    FOR EACH ROW EXECUTE FUNCTION gridmap_place_by_dwelling();
DROP TRIGGER IF EXISTS place_person ON people_person;
CREATE TRIGGER place_person BEFORE INSERT OR UPDATE OF dwelling_id ON people_person
    FOR EACH ROW EXECUTE FUNCTION gridmap_place_by_dwelling();
