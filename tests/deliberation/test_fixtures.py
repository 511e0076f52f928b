def test_estate_fixture_builds(estate):
    assert estate.users.zhang.is_verified_resident()
    assert estate.users.zhang.resident_paths() == (estate.community.path, estate.compound.path)
    assert sum(u.floor_area for u in estate.units) == 481
