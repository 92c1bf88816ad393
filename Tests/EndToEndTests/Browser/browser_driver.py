"""Drives headless Chromium through Selenium for the Swift browser tests.

One JSON command per line on standard input, one JSON answer per line on standard output:
  {"op": "open", "name": "ada"}                              a new browser
  {"op": "goto", "name": "ada", "url": "http://…"}
  {"op": "fill", "name": "ada", "testid": "login-name", "text": "ada"}
  {"op": "click", "name": "ada", "testid": "login-submit"}
  {"op": "select", "name": "ada", "testid": "send-audience", "value": "everyone"}
  {"op": "wait_text", "name": "ada", "testid": "connection-status", "equals": "connected", "timeout": 10}
  {"op": "wait_message", "name": "ada", "contains": "hello", "timeout": 10}   (optional "testid", default "message")
  {"op": "texts", "name": "ada", "testid": "message"}          the text of every element with that test id
  {"op": "script", "name": "ada", "source": "…"}                 async JavaScript: call arguments[0](value)
  {"op": "screenshot", "name": "ada", "path": "/tmp/x.png"}
  {"op": "quit"}
Answers are {"ok": true, "value": …} or {"ok": false, "error": "…"}; nothing else is printed.
"""
import json
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

browsers = {}


def open_browser(name, chromium, chromedriver):
    options = Options()
    for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1200,800", "--disable-gpu"]:
        options.add_argument(argument)
    options.binary_location = chromium
    browsers[name] = webdriver.Chrome(service=Service(chromedriver), options=options)
    browsers[name].set_script_timeout(20)


def by_testid(driver, testid):
    return driver.find_element(By.CSS_SELECTOR, f'[data-testid="{testid}"]')


def run(command):
    op = command["op"]
    if op == "open":
        open_browser(command["name"], command.get("chromium", "/usr/bin/chromium"), command.get("chromedriver", "/usr/bin/chromedriver"))
        return None
    if op == "quit":
        for driver in browsers.values():
            driver.quit()
        browsers.clear()
        return None
    driver = browsers[command["name"]]
    timeout = command.get("timeout", 10)
    # A page that reloads (the sign-in does) replaces its elements under a wait: keep looking.
    wait = WebDriverWait(driver, timeout, ignored_exceptions=[NoSuchElementException, StaleElementReferenceException])
    if op == "goto":
        driver.get(command["url"])
    elif op == "fill":
        element = by_testid(driver, command["testid"])
        element.clear()
        element.send_keys(command["text"])
    elif op == "click":
        by_testid(driver, command["testid"]).click()
    elif op == "select":
        Select(by_testid(driver, command["testid"])).select_by_value(command["value"])
    elif op == "wait_text":
        wait.until(lambda d: by_testid(d, command["testid"]).text.strip() == command["equals"])
    elif op == "wait_message":
        def seen(d):
            testid = command.get("testid", "message")
            return any(command["contains"] in e.text for e in d.find_elements(By.CSS_SELECTOR, f'[data-testid="{testid}"]'))
        wait.until(seen)
    elif op == "texts":
        return [e.text for e in driver.find_elements(By.CSS_SELECTOR, f'[data-testid="{command["testid"]}"]')]
    elif op == "text":
        return by_testid(driver, command["testid"]).text
    elif op == "script":
        return driver.execute_async_script(command["source"])
    elif op == "screenshot":
        driver.save_screenshot(command["path"])
    elif op == "sleep":
        time.sleep(command["seconds"])
    else:
        raise ValueError(f"unknown op {op}")
    return None


for line in sys.stdin:
    line = line.strip()
    if not line:
        continue
    try:
        answer = {"ok": True, "value": run(json.loads(line))}
    except Exception as error:  # every failure is an answer, never a dead driver
        answer = {"ok": False, "error": f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"}
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()
for driver in browsers.values():
    driver.quit()
