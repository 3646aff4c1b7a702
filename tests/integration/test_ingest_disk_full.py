"""Issue 11: the disk fills in the middle of a batch.  A "stored" line and
the summary's count must mean committed: before, -v had printed "stored"
for every report of the batch and the summary counted them, but the
batch was rolled back and the database held none.  Runs as root on a
1 MB tmpfs."""
import os
import re
import subprocess

import dmarctest as dt


class TestDiskFull(dt.Case):

    def setUp(self):
        if os.geteuid() != 0:
            self.skipTest("needs root to mount a small tmpfs")
        super().setUp()
        self.small = self.path("small")
        os.makedirs(self.small)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m",
                            "tmpfs", self.small], capture_output=True)
        if r.returncode != 0:
            self.skipTest("cannot mount a tmpfs: %s" % r.stderr.decode())
        self.addCleanup(subprocess.run, ["umount", "-l", self.small])
        for i in range(40):
            recs = [dt.record(ip="192.0.%d.%d" % (i, j)) for j in range(120)]
            self.write("in/r%02d.xml" % i,
                       dt.report_xml(report_id="df-%d" % i, records=recs))

    def test_stored_means_committed(self):
        db = os.path.join(self.small, "dmarc.db")
        p = self.ingest("-v", self.path("in"), db=db)
        err = p.stderr.decode()
        self.assertEqual(p.returncode, 74, err)
        self.assertIn("is full", err)
        in_db = self.count("reports", db=db)
        said = len(re.findall(r"(?m)^stored ", err))
        self.assertEqual(said, in_db, err)
        m = re.search(r"reports stored (\d+)", err)
        self.assertEqual(int(m.group(1)), in_db, err)
        self.assertLess(in_db, 40)
        # what was not committed is said, and read again next time
        self.assertRegex(err, r"\d+ reports? read since the last commit "
                              r"(was|were) not recorded \(rolled back\)")
