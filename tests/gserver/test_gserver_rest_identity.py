"""
A station's caller identity settings in the REST API (C{/devices}):
C{withholdCallerID} (CLIR set by the administrator) and
C{presentableNumbers} (the further public numbers its phone may prefer),
created, changed, shown, stored, checked, and described in the OpenAPI
document from the same field declarations.
"""

from openapi_spec_validator import validate

from test_gserver_rest import RestTestCase

from oso.gserver import openapi


class IdentityFieldTests(RestTestCase):
    async def test_createShowChange(self):
        """
        An administrator creates a station that withholds its caller id and
        may present the main number; both are in the answer, the model and
        the store; a change switches CLIR off and clears the list.
        """
        await self.setUpHarness()
        code, device, _ = await self.adminSend("POST", "/devices", {
            "number": "200", "port": "virtual-phones", "withholdCallerID": True,
            "presentableNumbers": ["4930123456000", "4930123456999"],
        })
        self.assertEqual(code, 201)
        self.assertEqual((device["withholdCallerID"], device["presentableNumbers"]),
                         (True, ["4930123456000", "4930123456999"]))
        model = self.model.device("200")
        self.assertEqual((model.withholdCallerID, model.presentableNumbers),
                         (True, ("4930123456000", "4930123456999")))
        [stored] = [d for d in await self.harness.exchange.store.loadDevices()
                    if d.number == "200"]
        self.assertEqual(stored, model)
        code, device, _ = await self.adminSend("PATCH", "/devices/200", {
            "withholdCallerID": False, "presentableNumbers": [],
        })
        self.assertEqual((code, device["withholdCallerID"], device["presentableNumbers"]),
                         (200, False, []))
        code, device, _ = await self.adminSend("GET", "/devices/101")
        self.assertEqual((device["withholdCallerID"], device["presentableNumbers"]), (False, []))

    async def test_refusals(self):
        """
        Values of the wrong kind, a number listed twice, and the settings on
        a trunk or a group are 400 badParameter naming the field; nothing
        changes.
        """
        await self.setUpHarness()
        cases = [
            ({"withholdCallerID": "yes"}, "withholdCallerID: expected true or false"),
            ({"presentableNumbers": "4930123456000"}, "presentableNumbers: expected an array"),
            ({"presentableNumbers": ["+4930123456000"]}, "presentableNumbers: expected an array"),
            ({"presentableNumbers": ["4930123456000", "4930123456000"]},
             "presentableNumbers: a number is listed twice"),
            ({"presentableNumbers": ["1"] * 21}, "presentableNumbers: expected an array of up to 20"),
        ]
        for body, detail in cases:
            code, error, _ = await self.adminSend("PATCH", "/devices/101", body)
            self.assertEqual((code, error["error"]), (400, "badParameter"), body)
            self.assertTrue(error["detail"].startswith(detail), (body, error["detail"]))
        self.assertFalse(self.model.device("101").withholdCallerID)
        code, error, _ = await self.adminSend("POST", "/devices", {
            "number": "900", "type": "trunk", "port": "sip-trunk", "trunkGroup": "carrier",
            "withholdCallerID": True,
        })
        self.assertEqual((code, error["detail"]),
                         (400, "withholdCallerID: only a station withholds its caller id"))
        code, error, _ = await self.adminSend("POST", "/devices", {
            "number": "300", "type": "group", "members": ["101"],
            "presentableNumbers": ["4930123456000"],
        })
        self.assertEqual((code, error["detail"]),
                         (400, "presentableNumbers: only a station presents numbers"))

    def test_openAPI(self):
        """
        The document describes both fields for creating, changing and
        reading a device, and stays valid OpenAPI 3.0.
        """
        document = openapi.document()
        validate(document)
        schemas = document["components"]["schemas"]
        for name in ("NewDevice", "DeviceChange", "Device"):
            properties = schemas[name]["properties"]
            self.assertEqual(properties["withholdCallerID"]["type"], "boolean", name)
            self.assertEqual(properties["presentableNumbers"]["type"], "array", name)
        items = schemas["NewDevice"]["properties"]["presentableNumbers"]["items"]
        self.assertEqual((items["pattern"], items["maxLength"]), ("^[0-9]+$", 15))
        self.assertEqual(schemas["NewDevice"]["properties"]["presentableNumbers"]["maxItems"], 20)
        self.assertIn("withholdCallerID", schemas["Device"]["required"])
        self.assertIn("presentableNumbers", schemas["Device"]["required"])
