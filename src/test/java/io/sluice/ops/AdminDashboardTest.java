package io.sluice.ops;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.response.Response;
import io.sluice.support.PostgresTestResource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.io.File;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.UUID;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The ops dashboard in headless Chromium: asks for the admin token, lists a finished job (done by
 * this instance's worker through the REST API) and a job running on another replica with its
 * progress, attempts, lease holder and files, and cancels the running one. Skips without
 * {@code /usr/bin/chromium} and {@code /usr/bin/chromedriver} (Debian packages chromium, chromium-driver).
 */
@QuarkusTest
@QuarkusTestResource(PostgresTestResource.class)
@TestProfile(OpsTestProfile.class)
class AdminDashboardTest {

    private static final String TENANT = "ops-ui";
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");

    @TestHTTPResource("/admin")
    URL admin;

    private ChromeDriver driver;
    private Path profileDir;

    @BeforeEach
    void browser() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER),
                "headless Chromium is not installed (apt-get install -y chromium chromium-driver): dashboard test skipped");
        profileDir = Files.createTempDirectory("sluice-chromium");
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1400,900", "--user-data-dir=" + profileDir);
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile())
                .usingAnyFreePort().build();
        driver = new ChromeDriver(service, options);
        driver.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(30));
    }

    @AfterEach
    void close() throws Exception {
        if (driver != null) {
            driver.quit();
        }
        if (profileDir != null) {
            try (var files = Files.walk(profileDir)) {
                files.sorted(java.util.Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
            }
        }
    }

    /** A job that another replica ("other-pod-7") runs: lease an hour ahead, 40 of 100 Patients in one part. */
    private static UUID runningElsewhere() throws Exception {
        UUID id = UUID.randomUUID();
        try (Connection c = PostgresTestResource.jdbc()) {
            try (PreparedStatement ps = c.prepareStatement("""
                    INSERT INTO export_job (id, tenant, status, level, request, request_url, owner, transaction_time,
                                            created_at, started_at, worker_id, lease_expires_at, fencing_token,
                                            heartbeat_at, attempts)
                    VALUES (?, ?, 'in-progress', 'system', '{}'::jsonb, 'http://x/$export', 'client-a', now(), now(),
                            now(), 'other-pod-7', now() + interval '1 hour', 2, now(), 2)""")) {
                ps.setObject(1, id);
                ps.setString(2, TENANT);
                ps.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement("""
                    INSERT INTO export_type_progress (job_id, kind, resource_type, exported, total, next_part)
                    VALUES (?, 'output', 'Patient', 40, 100, 1)""")) {
                ps.setObject(1, id);
                ps.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement("""
                    INSERT INTO export_part (job_id, kind, resource_type, part_index, location, resource_count,
                                             byte_count, sha256, fencing_token, created_at)
                    VALUES (?, 'output', 'Patient', 0, 'x', 40, 52000, 'abc', 2, now())""")) {
                ps.setObject(1, id);
                ps.executeUpdate();
            }
        }
        return id;
    }

    private static String status(UUID id) throws Exception {
        try (Connection c = PostgresTestResource.jdbc();
             PreparedStatement ps = c.prepareStatement("SELECT status FROM export_job WHERE id = ?")) {
            ps.setObject(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    private String finishedJob() throws Exception {
        Response put = given().contentType("application/fhir+json")
                .body("{\"resourceType\":\"Patient\",\"id\":\"ui1\",\"gender\":\"male\"}").put("/tenants/" + TENANT + "/fhir/Patient/ui1");
        assertTrue(put.statusCode() == 201 || put.statusCode() == 200, put.asString());
        Response kick = given().header("Prefer", "respond-async").header("Accept", "application/fhir+json")
                .get("/tenants/" + TENANT + "/fhir/$export?_type=Patient");
        assertEquals(202, kick.statusCode(), kick.asString());
        String statusUrl = kick.header("Content-Location");
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (given().get(statusUrl).statusCode() == 202 && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertEquals(200, given().get(statusUrl).statusCode());
        return statusUrl.substring(statusUrl.lastIndexOf('/') + 1);
    }

    @Test
    void listsJobsPerTenantAndCancelsARunningOne() throws Exception {
        String done = finishedJob();
        UUID running = runningElsewhere();
        // the page re-renders its table on every refresh: an element found a moment ago may be replaced
        WebDriverWait wait = new WebDriverWait(driver, Duration.ofSeconds(20));
        wait.ignoring(org.openqa.selenium.StaleElementReferenceException.class);

        // the static page is public and asks for the token; /admin redirects to /admin/
        driver.get(admin.toString());
        try {
            wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("token")));
        } catch (org.openqa.selenium.TimeoutException e) {
            throw new AssertionError("login form not shown at " + driver.getCurrentUrl() + ": " + driver.getPageSource(), e);
        }
        assertTrue(driver.getCurrentUrl().endsWith("/admin/"), driver.getCurrentUrl());

        // a wrong token is refused and the form comes back with a message
        driver.findElement(By.id("token")).sendKeys("not-the-token");
        driver.findElement(By.id("login-button")).click();
        wait.until(ExpectedConditions.textToBe(By.id("login-error"), "The token was refused."));

        driver.findElement(By.id("token")).sendKeys(OpsTestProfile.ADMIN_TOKEN);
        driver.findElement(By.id("login-button")).click();
        By runningRow = By.cssSelector("tr[data-job='" + running + "']");
        wait.until(ExpectedConditions.visibilityOfElementLocated(runningRow));
        // stop the 5 s auto-refresh, so the rows read below are not replaced while the test reads them
        driver.findElement(By.id("auto-refresh")).click();
        assertEquals(OpsTestProfile.ADMIN_TOKEN,
                ((JavascriptExecutor) driver).executeScript("return sessionStorage.getItem('sluice.adminToken')"));

        WebElement section = driver.findElement(By.cssSelector("section.tenant[data-tenant='" + TENANT + "']"));
        assertTrue(section.findElement(By.tagName("h2")).getText().contains("Tenant " + TENANT + " (2)"),
                section.findElement(By.tagName("h2")).getText());
        WebElement row = driver.findElement(runningRow);
        assertEquals("in-progress", row.findElement(By.cssSelector(".status")).getText());
        assertEquals("40", row.findElement(By.cssSelector(".progress")).getAttribute("data-pct"));
        assertTrue(row.getText().contains("40 / 100 resources"), row.getText());
        assertTrue(row.getText().contains("other-pod-7"), row.getText());
        assertTrue(row.getText().contains("expires "), row.getText());
        assertEquals("2", row.findElements(By.tagName("td")).get(3).getText());
        assertTrue(row.getText().contains("1 files, 50.8 KiB"), row.getText());

        WebElement doneRow = driver.findElement(By.cssSelector("tr[data-job='" + done + "']"));
        assertEquals("complete", doneRow.findElement(By.cssSelector(".status")).getText());
        assertEquals("100", doneRow.findElement(By.cssSelector(".progress")).getAttribute("data-pct"));
        assertTrue(doneRow.getText().contains("ops-worker-1"), doneRow.getText());
        assertTrue(doneRow.findElements(By.cssSelector("button.cancel")).isEmpty(), "finished jobs have no cancel button");

        screenshot("admin-dashboard.png");

        // cancel the running job (confirm dialog), the row turns cancelled and the database agrees
        row.findElement(By.cssSelector("button.cancel")).click();
        wait.until(ExpectedConditions.alertIsPresent()).accept();
        wait.until(d -> d.findElement(runningRow).getAttribute("data-status").equals("cancelled"));
        assertEquals("cancelled", status(running));
        assertEquals("complete", status(UUID.fromString(done)));

        // the token survives a reload in this tab; "Forget token" drops it
        driver.navigate().refresh();
        wait.until(ExpectedConditions.visibilityOfElementLocated(runningRow));
        screenshot("admin-dashboard-cancelled.png");
        driver.findElement(By.id("logout")).click();
        wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("token")));
        assertEquals(null, ((JavascriptExecutor) driver).executeScript("return sessionStorage.getItem('sluice.adminToken')"));
    }

    private void screenshot(String name) throws Exception {
        File shot = ((TakesScreenshot) driver).getScreenshotAs(OutputType.FILE);
        Files.copy(shot.toPath(), Path.of("target", name), StandardCopyOption.REPLACE_EXISTING);
    }
}
